#include "common/db/account_broker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/db/migrations.h"
#include "common/status_macros.h"

namespace dbrepl {

absl::StatusOr<ReplicationInfo> AccountBroker::ReadInfo() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare(absl::StrCat("SELECT account, created_at, put_timestamp, delete_timestamp, "
                                              "status_changed_at, container_count, object_count, bytes_used, hash, id, ",
                                              schema_.HasStatColumn("metadata") ? "metadata" : "''",
                                              " FROM account_stat")));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::DataLossError("missing row in account_stat table");
  ReplicationInfo info;
  info.account = st.ColumnText(0);
  info.created_at = st.ColumnText(1);
  info.put_timestamp = st.ColumnText(2);
  info.delete_timestamp = st.ColumnText(3);
  info.status_changed_at = st.ColumnText(4);
  info.count = st.ColumnInt(5);
  info.object_count = st.ColumnInt(6);
  info.bytes_used = st.ColumnInt(7);
  info.hash = st.ColumnText(8);
  info.id = st.ColumnText(9);
  info.metadata = st.ColumnText(10);
  return info;
}

absl::Status AccountBroker::MergeRows(const ItemBatch& rows, const std::string& source,
                                      const std::vector<SyncRecord>& also_syncs, int64_t* applied) {
  *applied = 0;
  if (rows.containers.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  if (!schema_.rows_have_policy_index) {
    RETURN_IF_ERROR(MigrateAccountAddStoragePolicyIndex(conn, schema_));
    RETURN_IF_ERROR(RefreshSchema());
  }
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  ASSIGN_OR_RETURN(SqliteStatement select,
                   conn->Prepare(absl::StrCat("SELECT name, put_timestamp, delete_timestamp, object_count, "
                                              "bytes_used, deleted, storage_policy_index FROM container WHERE name = ?",
                                              schema_.has_deleted_name_index ? " AND deleted IN (0, 1)" : "")));
  ASSIGN_OR_RETURN(SqliteStatement del, conn->Prepare("DELETE FROM container WHERE name = ? AND deleted IN (0, 1)"));
  ASSIGN_OR_RETURN(SqliteStatement insert,
                   conn->Prepare("INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, "
                                 "bytes_used, deleted, storage_policy_index) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  int64_t max_rowid = -1;
  for (const ContainerRecord& incoming : rows.containers) {
    ContainerRecord record = incoming;
    select.BindText(1, record.name);
    ASSIGN_OR_RETURN(bool exists, select.Step());
    if (exists) {
      // Newest put and delete win; deleted follows from them; the incoming
      // counts and policy always replace the stored ones.
      std::string row_put = select.ColumnText(1);
      std::string row_delete = select.ColumnText(2);
      select.Reset();
      ASSIGN_OR_RETURN(Timestamp existing_put, Timestamp::Parse(row_put));
      ASSIGN_OR_RETURN(Timestamp existing_delete, Timestamp::Parse(row_delete));
      ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(record.put_timestamp));
      ASSIGN_OR_RETURN(Timestamp deleted_at, Timestamp::Parse(record.delete_timestamp));
      if (existing_put > put) {
        record.put_timestamp = row_put;
        put = existing_put;
      }
      if (existing_delete > deleted_at) {
        record.delete_timestamp = row_delete;
        deleted_at = existing_delete;
      }
      record.deleted = deleted_at > put && record.object_count == 0;
    } else {
      select.Reset();
    }
    del.BindText(1, record.name);
    RETURN_IF_ERROR(del.Run());
    insert.BindText(1, record.name);
    insert.BindText(2, record.put_timestamp);
    insert.BindText(3, record.delete_timestamp);
    insert.BindInt(4, record.object_count);
    insert.BindInt(5, record.bytes_used);
    insert.BindInt(6, record.deleted ? 1 : 0);
    insert.BindInt(7, record.storage_policy_index);
    RETURN_IF_ERROR(insert.Run());
    ++*applied;
    max_rowid = std::max(max_rowid, incoming.rowid);
  }
  std::vector<SyncRecord> points;
  if (!source.empty()) points.push_back(SyncRecord{source, max_rowid, 0});
  points.insert(points.end(), also_syncs.begin(), also_syncs.end());
  if (!points.empty()) RETURN_IF_ERROR(RaiseSyncPointsLocked(points, /*incoming=*/true));
  absl::Status committed = txn.Commit();
  if (!committed.ok()) *applied = 0;
  return committed;
}

absl::StatusOr<bool> AccountBroker::IsDeletedLocked() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT put_timestamp, delete_timestamp, container_count, "
                                                     "status FROM account_stat"));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::DataLossError("missing row in account_stat table");
  if (st.ColumnText(3) == "DELETED") return true;
  std::string count = st.ColumnText(2);
  if (!(st.ColumnIsNull(2) || count.empty() || count == "0")) return false;
  ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(st.ColumnText(0)));
  ASSIGN_OR_RETURN(Timestamp del, Timestamp::Parse(st.ColumnText(1)));
  return del > put;
}

absl::StatusOr<bool> AccountBroker::IsReclaimable(double now, double reclaim_age) {
  absl::StatusOr<ReplicationInfo> info = GetReplicationInfo();
  if (!info.ok()) return info.status();
  if (info->count != 0) return false;
  ASSIGN_OR_RETURN(Timestamp cutoff, Timestamp::FromSeconds(now - reclaim_age));
  ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(info->put_timestamp));
  ASSIGN_OR_RETURN(Timestamp del, Timestamp::Parse(info->delete_timestamp));
  return cutoff > del && del > put;
}

}  // namespace dbrepl
