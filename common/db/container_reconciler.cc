// ContainerBroker: what Swift's container replicator reads and writes for its
// container-reconciler (swift/container/backend.py: get_reconciler_sync,
// update_reconciler_sync, has_multiple_policies, get_misplaced_since).
#include "common/db/container_broker.h"
#include "common/db/migrations.h"
#include "common/status_macros.h"

namespace dbrepl {


absl::StatusOr<int64_t> ContainerBroker::GetReconcilerSync() {
  if (!schema_.HasStatColumn("reconciler_sync_point")) return int64_t{-1};
  auto read = [&]() -> absl::StatusOr<int64_t> {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT reconciler_sync_point FROM container_stat"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row || st.ColumnIsNull(0)) return int64_t{-1};
    return st.ColumnInt(0);
  };
  return Guard(read());
}

absl::Status ContainerBroker::UpdateReconcilerSync(int64_t point) {
  auto write = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    if (!schema_.rows_have_policy_index) {
      RETURN_IF_ERROR(MigrateContainerAddStoragePolicy(conn, schema_));
      RETURN_IF_ERROR(RefreshSchema());
    }
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("UPDATE container_stat SET reconciler_sync_point = ?"));
    st.BindInt(1, point);
    RETURN_IF_ERROR(st.Run());
    return txn.Commit();
  };
  return Guard(write());
}

absl::StatusOr<bool> ContainerBroker::HasMultiplePolicies() {
  if (!schema_.has_policy_stat) return false;
  auto read = [&]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT COUNT(storage_policy_index) FROM policy_stat"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    return row && st.ColumnInt(0) > 1;
  };
  return Guard(read());
}

absl::StatusOr<std::vector<ObjectRecord>> ContainerBroker::GetMisplacedSince(int64_t start, int count) {
  RETURN_IF_ERROR(Guard(FlushPending()));
  if (!schema_.rows_have_policy_index) return std::vector<ObjectRecord>();
  auto read = [&]() -> absl::StatusOr<std::vector<ObjectRecord>> {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    ASSIGN_OR_RETURN(SqliteStatement st,
                     conn->Prepare("SELECT ROWID, name, created_at, size, content_type, etag, deleted, "
                                   "storage_policy_index FROM object WHERE ROWID > ? AND storage_policy_index != "
                                   "(SELECT storage_policy_index FROM container_stat LIMIT 1) "
                                   "ORDER BY ROWID ASC LIMIT ?"));
    st.BindInt(1, start);
    st.BindInt(2, count);
    std::vector<ObjectRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ObjectRecord r = ReadObjectColumns(st, 1);
      r.rowid = st.ColumnInt(0);
      out.push_back(std::move(r));
    }
    return out;
  };
  return Guard(read());
}

}  // namespace dbrepl
