// Swift's lazy schema migrations for databases created by old releases (the
// _migrate_* methods of swift/account/backend.py and
// swift/container/backend.py). Swift runs them on the first write that needs the
// new schema; so do we. Reads never migrate.
//
//   if (!schema.rows_have_policy_index) RETURN_IF_ERROR(MigrateContainerAddStoragePolicy(conn, schema));
//
// Each migration runs in one transaction: either the file is fully migrated
// or it is untouched. Errors are SQLite's.
#ifndef DBREPL_COMMON_DB_MIGRATIONS_H_
#define DBREPL_COMMON_DB_MIGRATIONS_H_

#include "absl/status/status.h"
#include "common/db/schema_info.h"
#include "common/db/sqlite_connection.h"

namespace dbrepl {

// ContainerBroker._migrate_add_storage_policy: the 2013 schema (container_stat
// table, object rows without storage_policy_index) becomes the current one:
// policy_stat seeded from container_stat's counts, the policy triggers,
// container_info copied from container_stat, container_stat replaced by the
// view. Like Swift, reported_delete_timestamp is not carried over (it resets
// to '0') and no shard_range table is added.
absl::Status MigrateContainerAddStoragePolicy(SqliteConnection* conn, const SchemaInfo& schema);

// AccountBroker._migrate_add_storage_policy_index: creates policy_stat if
// missing, adds container.storage_policy_index and the policy triggers.
absl::Status MigrateAccountAddStoragePolicyIndex(SqliteConnection* conn, const SchemaInfo& schema);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_MIGRATIONS_H_
