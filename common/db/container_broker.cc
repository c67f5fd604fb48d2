#include "common/db/container_broker.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/metadata.h"
#include "common/db/migrations.h"
#include "common/db/object_merge.h"
#include "common/db/object_trigger_effects.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

// Swift's SQLITE_ARG_LIMIT: names per "IN (...)" query.
constexpr size_t kSqliteArgLimit = 999;

// zero_like(): None, '', 0 or '0'.
bool ZeroLike(const SqliteStatement& st, int column) {
  if (st.ColumnIsNull(column)) return true;
  std::string text = st.ColumnText(column);
  return text.empty() || text == "0";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// urllib.parse.unquote for the shard root sysmeta.
std::string Unquote(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

using RowKey = std::pair<std::string, int64_t>;  // (name, storage_policy_index)

}  // namespace

absl::StatusOr<ReplicationInfo> ContainerBroker::ReadInfo() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  // Swift's view joins container_info and policy_stat: for that view, the
  // two tables are read directly (compiling the view costs more than the
  // rest of the statement, and this is every cold read), the counts below.
  const bool direct = schema_.swift_stat_view;
  // Older schemas lack the sync points and the policy index: Swift
  // substitutes the defaults, so do we.
  const char* sync_points = schema_.HasStatColumn("x_container_sync_point1")
                                ? "x_container_sync_point1, x_container_sync_point2"
                                : "-1 AS x_container_sync_point1, -1 AS x_container_sync_point2";
  const char* policy =
      schema_.HasStatColumn("storage_policy_index") ? "storage_policy_index" : "0 AS storage_policy_index";
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare(absl::StrCat(
                       "SELECT account, container, created_at, put_timestamp, delete_timestamp, status, "
                       "status_changed_at, ", direct ? "0, 0" : "object_count, bytes_used",
                       ", reported_put_timestamp, reported_delete_timestamp, reported_object_count, "
                       "reported_bytes_used, hash, id, ",
                       sync_points, ", ", policy, ", ", schema_.HasStatColumn("metadata") ? "metadata" : "''",
                       direct ? " FROM container_info" : " FROM container_stat")));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::DataLossError("missing row in container_stat table");
  ReplicationInfo info;
  info.account = st.ColumnText(0);
  info.container = st.ColumnText(1);
  info.created_at = st.ColumnText(2);
  info.put_timestamp = st.ColumnText(3);
  info.delete_timestamp = st.ColumnText(4);
  info.status = st.ColumnText(5);
  info.status_changed_at = st.ColumnText(6);
  info.count = st.ColumnInt(7);
  info.bytes_used = st.ColumnInt(8);
  info.reported_put_timestamp = st.ColumnText(9);
  info.reported_delete_timestamp = st.ColumnText(10);
  info.reported_object_count = st.ColumnInt(11);
  info.reported_bytes_used = st.ColumnInt(12);
  info.hash = st.ColumnText(13);
  info.id = st.ColumnText(14);
  info.x_container_sync_point1 = st.ColumnInt(15);
  info.x_container_sync_point2 = st.ColumnInt(16);
  info.storage_policy_index = st.ColumnInt(17);
  info.metadata = st.ColumnText(18);
  info.db_state = "unsharded";
  if (direct) {
    // The view's LEFT JOIN ... ON storage_policy_index, coalesce(..., 0).
    st.Reset();
    ASSIGN_OR_RETURN(SqliteStatement ps, conn->Prepare("SELECT object_count, bytes_used FROM policy_stat "
                                                       "WHERE storage_policy_index = ?"));
    ps.BindInt(1, info.storage_policy_index);
    ASSIGN_OR_RETURN(bool found, ps.Step());
    info.count = found ? ps.ColumnInt(0) : 0;
    info.bytes_used = found ? ps.ColumnInt(1) : 0;
  }
  return info;
}

absl::StatusOr<ReplicationInfo> ContainerBroker::ReadInfoLocked() {
  ASSIGN_OR_RETURN(ReplicationInfo info, ReadInfo());
  ASSIGN_OR_RETURN(info.shard_max_row, MaxRowOf("shard_range"));
  return info;
}

absl::Status ContainerBroker::SetStoragePolicyIndexUnguarded(int64_t policy_index, const std::string& timestamp) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  if (!schema_.rows_have_policy_index) {
    RETURN_IF_ERROR(MigrateContainerAddStoragePolicy(conn, schema_));
    RETURN_IF_ERROR(RefreshSchema());
  }
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  ASSIGN_OR_RETURN(SqliteStatement add,
                   conn->Prepare("INSERT OR IGNORE INTO policy_stat (storage_policy_index) VALUES (?)"));
  add.BindInt(1, policy_index);
  RETURN_IF_ERROR(add.Run());
  ASSIGN_OR_RETURN(SqliteStatement set, conn->Prepare("UPDATE container_stat SET storage_policy_index = ?, "
                                                      "status_changed_at = MAX(?, status_changed_at) "
                                                      "WHERE storage_policy_index <> ?"));
  set.BindInt(1, policy_index);
  set.BindText(2, timestamp);
  set.BindInt(3, policy_index);
  RETURN_IF_ERROR(set.Run());
  return txn.Commit();
}

absl::Status ContainerBroker::MergeRows(const ItemBatch& rows, const std::string& source,
                                        const std::vector<SyncRecord>& also_syncs, int64_t* applied) {
  *applied = 0;
  const std::vector<ObjectRecord>& items = rows.objects;
  if (items.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  if (!schema_.rows_have_policy_index) {
    RETURN_IF_ERROR(MigrateContainerAddStoragePolicy(conn, schema_));
    RETURN_IF_ERROR(RefreshSchema());
  }
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  const std::string query_mod = DeletedQueryMod();

  // The rows that already exist for these names, keyed as Swift keys them.
  std::map<RowKey, ObjectRecord> records;
  // Swift's triggers' arithmetic done once for the batch (their effect is a
  // sum and an XOR), when the schema's triggers are Swift's and every row
  // involved has the column types it assumes; the triggers otherwise.
  bool batched = schema_.swift_object_triggers && options_.batch_object_triggers;
  for (size_t offset = 0; offset < items.size(); offset += kSqliteArgLimit) {
    size_t n = std::min(kSqliteArgLimit, items.size() - offset);
    std::vector<std::string> marks(n, "?");
    ASSIGN_OR_RETURN(SqliteStatement st,
                     conn->Prepare(absl::StrCat("SELECT name, created_at, size, content_type, etag, deleted, "
                                                "storage_policy_index FROM object WHERE ",
                                                query_mod, " name IN (", absl::StrJoin(marks, ","), ")")));
    for (size_t i = 0; i < n; ++i) st.BindText(static_cast<int>(i + 1), items[offset + i].name);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      // ReadObjectColumns reads deleted as a bool: the arithmetic needs 0 or 1.
      batched = batched && st.ColumnIsText(0) && st.ColumnIsText(1) && st.ColumnIsInteger(2) &&
                st.ColumnIsInteger(5) && (st.ColumnInt(5) == 0 || st.ColumnInt(5) == 1) && st.ColumnIsInteger(6);
      ObjectRecord r = ReadObjectColumns(st, 0);
      RowKey key(r.name, r.storage_policy_index);
      // Two rows under one key would both be deleted below.
      if (!records.emplace(key, r).second) {
        batched = false;
        records[key] = std::move(r);
      }
    }
  }

  // Decide, item by item, in order. Duplicates within the batch merge into
  // the first one's slot, so insertion (ROWID) order is first appearance.
  std::vector<MergingObject> to_add;
  std::map<RowKey, size_t> to_add_index;
  std::set<RowKey> to_delete;
  for (const ObjectRecord& incoming : items) {
    MergingObject item(incoming);
    RowKey key(incoming.name, incoming.storage_policy_index);
    auto existing = records.find(key);
    ASSIGN_OR_RETURN(bool newer,
                     UpdateNewItemFromExisting(&item, existing == records.end() ? nullptr : &existing->second));
    if (!newer) continue;
    if (existing != records.end()) to_delete.insert(key);
    auto earlier = to_add_index.find(key);
    if (earlier == to_add_index.end()) {
      to_add_index.emplace(key, to_add.size());
      to_add.push_back(std::move(item));
    } else {
      ASSIGN_OR_RETURN(bool ignored, UpdateNewItemFromExisting(&item, &to_add[earlier->second].record));
      (void)ignored;
      to_add[earlier->second] = std::move(item);
    }
  }

  ObjectTriggerEffects effects;
  if (batched) {
    for (const RowKey& key : to_delete) {
      const ObjectRecord& r = records.at(key);
      batched = batched && effects.Deleted({r.name, r.created_at, r.size, r.deleted ? 1 : 0, r.storage_policy_index});
    }
    for (const MergingObject& item : to_add) {
      const ObjectRecord& r = item.record;
      batched = batched && effects.Inserted({r.name, r.created_at, r.size, r.deleted ? 1 : 0, r.storage_policy_index});
    }
    if (batched) {
      ASSIGN_OR_RETURN(batched, effects.Load(conn));
    }
  }
  // Statements prepared from here until the triggers are back run without
  // them (and the connection's setting is restored on every return).
  TriggersOff triggers_off(batched ? conn : nullptr);
  RETURN_IF_ERROR(triggers_off.status());

  if (!to_delete.empty()) {
    ASSIGN_OR_RETURN(SqliteStatement del,
                     conn->Prepare(absl::StrCat("DELETE FROM object WHERE ", query_mod,
                                                "name=? AND storage_policy_index=?")));
    for (const RowKey& key : to_delete) {
      del.BindText(1, key.first);
      del.BindInt(2, key.second);
      RETURN_IF_ERROR(del.Run());
    }
  }
  if (!to_add.empty()) {
    ASSIGN_OR_RETURN(SqliteStatement insert,
                     conn->Prepare("INSERT INTO object (name, created_at, size, content_type, etag, deleted, "
                                   "storage_policy_index) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (const MergingObject& item : to_add) {
      const ObjectRecord& r = item.record;
      insert.BindText(1, r.name);
      insert.BindText(2, r.created_at);
      insert.BindInt(3, r.size);
      insert.BindText(4, r.content_type);
      insert.BindText(5, r.etag);
      insert.BindInt(6, r.deleted ? 1 : 0);
      insert.BindInt(7, r.storage_policy_index);
      RETURN_IF_ERROR(insert.Run());
    }
  }
  if (batched) {
    RETURN_IF_ERROR(effects.Apply(conn));
    triggers_off.Restore();  // The sync tables' triggers stamp updated_at.
  }
  std::vector<SyncRecord> points;
  // The sender sends ROWIDs in order without gaps, so the batch's last
  // ROWID is how far it has got (Swift uses item_list[-1]['ROWID']).
  if (!source.empty()) points.push_back(SyncRecord{source, items.back().rowid, 0});
  points.insert(points.end(), also_syncs.begin(), also_syncs.end());
  if (!points.empty()) RETURN_IF_ERROR(RaiseSyncPointsLocked(points, /*incoming=*/true));
  RETURN_IF_ERROR(txn.Commit());
  *applied = static_cast<int64_t>(to_add.size());
  return absl::OkStatus();
}

absl::StatusOr<bool> ContainerBroker::IsDeletedLocked() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare("SELECT put_timestamp, delete_timestamp, object_count FROM container_stat"));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::DataLossError("missing row in container_stat table");
  if (!ZeroLike(st, 2)) return false;
  ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(st.ColumnText(0)));
  ASSIGN_OR_RETURN(Timestamp del, Timestamp::Parse(st.ColumnText(1)));
  return del > put;
}

absl::Status ContainerBroker::OnNewIdLocked() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  // Forces the container updater to report this copy again.
  return conn->Execute(
      "UPDATE container_stat SET reported_put_timestamp = 0, reported_delete_timestamp = 0, "
      "reported_object_count = 0, reported_bytes_used = 0");
}

absl::Status ContainerBroker::ReclaimOtherLocked(double sync_timestamp) {
  if (!schema_.has_shard_range) return absl::OkStatus();
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement names, conn->Prepare("SELECT account, container FROM container_stat"));
  ASSIGN_OR_RETURN(bool row, names.Step());
  if (!row) return absl::DataLossError("missing row in container_stat table");
  std::string path = absl::StrCat(names.ColumnText(0), "/", names.ColumnText(1));
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare("DELETE FROM shard_range WHERE deleted = 1 AND timestamp < ? AND name != ?"));
  st.BindDouble(1, sync_timestamp);
  st.BindText(2, path);
  return st.Run();
}

std::vector<std::string> ContainerBroker::DeleteMetaWhitelist() const {
  return {"x-container-sysmeta-shard-quoted-root", "x-container-sysmeta-shard-root",
          "x-container-sysmeta-sharding"};
}

absl::StatusOr<bool> ContainerBroker::IsReclaimable(double now, double reclaim_age) {
  return Guard(DoIsReclaimable(now, reclaim_age));
}

absl::StatusOr<bool> ContainerBroker::DoIsReclaimable(double now, double reclaim_age) {
  RETURN_IF_ERROR(FlushPending());
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  // is_old_enough_to_reclaim.
  {
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT put_timestamp, delete_timestamp FROM container_stat"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return absl::DataLossError("missing row in container_stat table");
    ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(st.ColumnText(0)));
    ASSIGN_OR_RETURN(Timestamp del, Timestamp::Parse(st.ColumnText(1)));
    ASSIGN_OR_RETURN(Timestamp cutoff, Timestamp::FromSeconds(now - reclaim_age));
    if (!(cutoff > del && del > put)) return false;
  }
  // is_empty_enough_to_reclaim: a root container with shard ranges is not.
  ASSIGN_OR_RETURN(ReplicationInfo info, ReadInfo());
  if (schema_.has_shard_range) {
    ASSIGN_OR_RETURN(std::string metadata, ReadMetadataColumn());
    ASSIGN_OR_RETURN(std::string quoted_root, GetMetadataValue(metadata, "X-Container-Sysmeta-Shard-Quoted-Root"));
    ASSIGN_OR_RETURN(std::string root, GetMetadataValue(metadata, "X-Container-Sysmeta-Shard-Root"));
    std::string path = absl::StrCat(info.account, "/", info.container);
    std::string root_path = !quoted_root.empty() ? Unquote(quoted_root) : (!root.empty() ? root : path);
    if (root_path == path) {
      ASSIGN_OR_RETURN(SqliteStatement st,
                       conn->Prepare("SELECT COUNT(*) FROM shard_range WHERE deleted = 0 AND name != ?"));
      st.BindText(1, path);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && st.ColumnInt(0) > 0) return false;
    }
  }
  // empty(): no objects in any policy.
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(schema_.has_policy_stat
                                                         ? "SELECT max(object_count) FROM policy_stat"
                                                         : "SELECT object_count FROM container_stat"));
  ASSIGN_OR_RETURN(bool row, st.Step());
  return !row || ZeroLike(st, 0);
}

absl::StatusOr<bool> ContainerBroker::ReportUpToDate(const ReplicationInfo& info) {
  return info.reported_put_timestamp == info.put_timestamp &&
         info.reported_delete_timestamp == info.delete_timestamp && info.reported_bytes_used == info.bytes_used &&
         info.reported_object_count == info.count;
}

}  // namespace dbrepl
