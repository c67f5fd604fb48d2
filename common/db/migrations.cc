#include "common/db/migrations.h"

#include "absl/strings/str_cat.h"
#include "common/db/schema.h"
#include "common/status_macros.h"

namespace dbrepl {

absl::Status MigrateContainerAddStoragePolicy(SqliteConnection* conn, const SchemaInfo& schema) {
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(conn));
  // _migrate_add_container_sync_points and the metadata column first, so the
  // copy below finds every column.
  if (!schema.HasStatColumn("x_container_sync_point1")) {
    RETURN_IF_ERROR(conn->Execute(R"sql(
            ALTER TABLE container_stat
            ADD COLUMN x_container_sync_point1 INTEGER DEFAULT -1;
            ALTER TABLE container_stat
            ADD COLUMN x_container_sync_point2 INTEGER DEFAULT -1;
        )sql"));
  }
  if (!schema.HasStatColumn("metadata")) {
    RETURN_IF_ERROR(conn->Execute(R"sql(
                ALTER TABLE container_stat
                ADD COLUMN metadata TEXT DEFAULT '';
            )sql"));
  }
  // Swift's list: note reported_delete_timestamp is missing from it.
  constexpr char kColumns[] =
      "account, container, created_at, put_timestamp, delete_timestamp, reported_put_timestamp, "
      "reported_object_count, reported_bytes_used, hash, id, status, status_changed_at, metadata, "
      "x_container_sync_point1, x_container_sync_point2";
  RETURN_IF_ERROR(conn->Execute(absl::StrCat(kContainerPolicyStatTableDdl, R"sql(
                INSERT INTO policy_stat (
                    storage_policy_index, object_count, bytes_used)
                SELECT 0, object_count, bytes_used
                FROM container_stat;

                ALTER TABLE object
                ADD COLUMN storage_policy_index INTEGER DEFAULT 0;

                DROP TRIGGER object_insert;
                DROP TRIGGER object_delete;
            )sql",
                                             kContainerPolicyStatTriggersDdl, kContainerInfoTableDdl,
                                             "INSERT INTO container_info (", kColumns, ") SELECT ", kColumns,
                                             " FROM container_stat; DROP TABLE IF EXISTS container_stat;",
                                             kContainerStatViewDdl)));
  return txn.Commit();
}

absl::Status MigrateAccountAddStoragePolicyIndex(SqliteConnection* conn, const SchemaInfo& schema) {
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(conn));
  if (!schema.has_policy_stat) RETURN_IF_ERROR(conn->Execute(kAccountPolicyStatTableDdl));
  RETURN_IF_ERROR(conn->Execute(absl::StrCat(R"sql(
            ALTER TABLE container
            ADD COLUMN storage_policy_index INTEGER DEFAULT 0;
        )sql",
                                             kAccountPolicyStatTriggersDdl)));
  return txn.Commit();
}

}  // namespace dbrepl
