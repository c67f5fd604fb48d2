// The schema of Swift's account and container databases (DatabaseBroker.
// initialize in swift/common/db.py and the create_* methods of
// swift/account/backend.py and swift/container/backend.py), and the creation
// of a new one.
//
//   NewDatabase db{.account = "a", .container = "c", .created_at = now,
//                  .put_timestamp = "0000000001.00000", .id = id};
//   RETURN_IF_ERROR(CreateSchema(conn, DbType::kContainer, db));
//
// The DDL strings are Swift's own, character for character, so sqlite_master
// of a file we create matches one Swift creates, in the same order:
//   container: outgoing_sync, incoming_sync (+ autoindexes), their four
//     triggers; object, sqlite_sequence, ix_object_deleted_name,
//     object_update, object_insert_policy_stat, object_delete_policy_stat;
//     policy_stat; container_info; container_stat (view) and its
//     container_stat_update trigger; shard_range and shard_range_update.
//   account: the sync tables; container (+ index and the five triggers);
//     account_stat; policy_stat.
//
// Pure functions of the connection given; no state.
#ifndef DBREPL_COMMON_DB_SCHEMA_H_
#define DBREPL_COMMON_DB_SCHEMA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/db/sqlite_connection.h"
#include "common/db_type.h"

namespace dbrepl {

// Common to both types (DatabaseBroker.initialize).
extern const char kSyncTablesDdl[];
// Container (ContainerBroker).
extern const char kObjectTableDdl[];
extern const char kContainerPolicyStatTriggersDdl[];  // POLICY_STAT_TRIGGER_SCRIPT
extern const char kContainerPolicyStatTableDdl[];     // POLICY_STAT_TABLE_CREATE
extern const char kContainerInfoTableDdl[];           // CONTAINER_INFO_TABLE_SCRIPT
extern const char kContainerStatViewDdl[];            // CONTAINER_STAT_VIEW_SCRIPT (+ trigger)
extern const char kShardRangeTableDdl[];
extern const char kShardRangeTriggerDdl[];
// Account (AccountBroker).
extern const char kContainerTableDdl[];
extern const char kAccountPolicyStatTriggersDdl[];  // POLICY_STAT_TRIGGER_SCRIPT
extern const char kAccountStatTableDdl[];           // Includes the initial row.
extern const char kAccountPolicyStatTableDdl[];     // Includes the copy from account_stat.

// The values Swift's initialize() writes into the stat row.
struct NewDatabase {
  std::string account;
  std::string container;      // Empty for an account.
  std::string created_at;     // Timestamp.now().internal
  std::string put_timestamp;  // As given; status_changed_at gets the same.
  std::string id;             // "<uuid4>-<device>"
  int64_t storage_policy_index = 0;  // Containers only.
};

// Creates every table, index, view and trigger of `type` and the stat row,
// in one transaction on an empty database. INVALID_ARGUMENT when the account
// (or a container's container) name is missing; otherwise SQLite's errors.
absl::Status CreateSchema(SqliteConnection* conn, DbType type, const NewDatabase& db);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SCHEMA_H_
