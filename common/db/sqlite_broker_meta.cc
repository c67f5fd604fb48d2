// SqliteBroker: sync points, metadata and timestamps (the rest of the class
// is in sqlite_broker.cc).
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/db/metadata.h"
#include "common/db/sqlite_broker.h"
#include "common/status_macros.h"
#include "common/timestamp.h"

namespace dbrepl {
namespace {

const char* SyncTable(bool incoming) { return incoming ? "incoming_sync" : "outgoing_sync"; }

}  // namespace

// ---------------------------------------------------------------------------
// Sync points

absl::StatusOr<int64_t> SqliteBroker::GetSync(const std::string& remote_id, bool incoming) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  absl::StatusOr<SqliteStatement> st =
      conn->Prepare(absl::StrCat("SELECT sync_point FROM ", SyncTable(incoming), " WHERE remote_id=?"));
  if (!st.ok()) return Guard(st.status());
  st->BindText(1, remote_id);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return Guard(row.status());
  return *row ? st->ColumnInt(0) : -1;
}

absl::StatusOr<std::vector<SyncRecord>> SqliteBroker::GetSyncs(bool incoming) { return Guard(ReadSyncs(incoming)); }

absl::StatusOr<std::vector<SyncRecord>> SqliteBroker::ReadSyncs(bool incoming) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare(absl::StrCat("SELECT remote_id, sync_point, updated_at FROM ", SyncTable(incoming))));
  std::vector<SyncRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    SyncRecord r;
    r.remote_id = st.ColumnText(0);
    r.sync_point = st.ColumnInt(1);
    if (!absl::SimpleAtoi(st.ColumnText(2), &r.updated_at)) r.updated_at = 0;
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status SqliteBroker::MergeSyncs(const std::vector<SyncRecord>& syncs, bool incoming) {
  return Guard(DoMergeSyncs(syncs, incoming));
}

absl::Status SqliteBroker::DoMergeSyncs(const std::vector<SyncRecord>& syncs, bool incoming) {
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  RETURN_IF_ERROR(RaiseSyncPointsLocked(syncs, incoming));
  return txn.Commit();
}

absl::Status SqliteBroker::RaiseSyncPointsLocked(const std::vector<SyncRecord>& syncs, bool incoming) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  // Swift inserts and, on the UNIQUE conflict, raises; updating first and
  // inserting when nothing matched is the same, without the error.
  ASSIGN_OR_RETURN(SqliteStatement update,
                   conn->Prepare(absl::StrCat("UPDATE ", SyncTable(incoming),
                                              " SET sync_point=max(?, sync_point) WHERE remote_id=?")));
  ASSIGN_OR_RETURN(SqliteStatement insert, conn->Prepare(absl::StrCat("INSERT INTO ", SyncTable(incoming),
                                                                      " (sync_point, remote_id) VALUES (?, ?)")));
  for (const SyncRecord& s : syncs) {
    update.BindInt(1, s.sync_point);
    update.BindText(2, s.remote_id);
    RETURN_IF_ERROR(update.Run());
    if (conn->Changes() < 1) {
      insert.BindInt(1, s.sync_point);
      insert.BindText(2, s.remote_id);
      RETURN_IF_ERROR(insert.Run());
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Metadata and timestamps

absl::StatusOr<std::string> SqliteBroker::ReadMetadataColumn() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  if (!schema_.HasStatColumn("metadata")) {
    // A missing stat row still means corruption.
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("SELECT 1 FROM ", stat_table())));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return absl::DataLossError(absl::StrCat("missing row in ", stat_table(), " table"));
    return std::string();
  }
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("SELECT metadata FROM ", stat_table())));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::DataLossError(absl::StrCat("missing row in ", stat_table(), " table"));
  return st.ColumnText(0);
}

absl::StatusOr<std::string> SqliteBroker::GetRawMetadata() { return Guard(ReadMetadataColumn()); }

absl::Status SqliteBroker::UpdateMetadata(const std::string& metadata_json) {
  return Guard(DoUpdateMetadata(metadata_json));
}

absl::Status SqliteBroker::DoUpdateMetadata(const std::string& metadata_json) {
  // Reject malformed updates before touching the database.
  RETURN_IF_ERROR(MergeMetadata("", metadata_json).status());
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(std::string stored, ReadMetadataColumn());
  ASSIGN_OR_RETURN(absl::optional<std::string> merged, MergeMetadata(stored, metadata_json));
  if (!merged.has_value()) return absl::OkStatus();  // Nothing newer: no write.
  if (!schema_.HasStatColumn("metadata")) {
    RETURN_IF_ERROR(conn->Execute(absl::StrCat("ALTER TABLE ", stat_table(), " ADD COLUMN metadata TEXT DEFAULT ''")));
  }
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("UPDATE ", stat_table(), " SET metadata = ?")));
  st.BindText(1, *merged);
  RETURN_IF_ERROR(st.Run());
  RETURN_IF_ERROR(txn.Commit());
  return RefreshSchema();
}

absl::Status SqliteBroker::SetStoragePolicyIndex(int64_t policy_index, const std::string& timestamp) {
  return Guard(SetStoragePolicyIndexUnguarded(policy_index, timestamp));
}

absl::Status SqliteBroker::MergeTimestamps(const std::string& created_at, const std::string& put_timestamp,
                                           const std::string& delete_timestamp) {
  return Guard(DoMergeTimestamps(created_at, put_timestamp, delete_timestamp));
}

absl::Status SqliteBroker::DoMergeTimestamps(const std::string& created_at, const std::string& put_timestamp,
                                             const std::string& delete_timestamp) {
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(bool was_deleted, IsDeletedLocked());
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare(absl::StrCat("UPDATE ", stat_table(),
                                              " SET created_at=MIN(?, created_at), put_timestamp=MAX(?, put_timestamp), "
                                              "delete_timestamp=MAX(?, delete_timestamp)")));
  st.BindText(1, created_at);
  st.BindText(2, put_timestamp);
  st.BindText(3, delete_timestamp);
  RETURN_IF_ERROR(st.Run());
  ASSIGN_OR_RETURN(bool is_deleted, IsDeletedLocked());
  if (was_deleted != is_deleted) {
    ASSIGN_OR_RETURN(SqliteStatement changed,
                     conn->Prepare(absl::StrCat("UPDATE ", stat_table(),
                                                " SET status_changed_at = ? WHERE status_changed_at < ?")));
    std::string now = Timestamp::Now().Internal();
    changed.BindText(1, now);
    changed.BindText(2, now);
    RETURN_IF_ERROR(changed.Run());
  }
  return txn.Commit();
}

absl::Status SqliteBroker::MarkDeleted(const std::string& timestamp) {
  absl::StatusOr<std::string> stored = GetRawMetadata();
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::string> updates = DeleteAllMetadataUpdates(*stored, timestamp, DeleteMetaWhitelist());
  if (!updates.ok()) return updates.status();
  RETURN_IF_ERROR(UpdateMetadata(*updates));
  auto mark = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    ASSIGN_OR_RETURN(SqliteStatement st,
                     conn->Prepare(absl::StrCat("UPDATE ", stat_table(),
                                                " SET delete_timestamp = ?, status = 'DELETED', "
                                                "status_changed_at = ? WHERE delete_timestamp < ?")));
    st.BindText(1, timestamp);
    st.BindText(2, timestamp);
    st.BindText(3, timestamp);
    RETURN_IF_ERROR(st.Run());
    return txn.Commit();
  };
  return Guard(mark());
}

}  // namespace dbrepl
