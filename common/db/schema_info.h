// What an existing database file's schema looks like: which type it is,
// whether it is Swift's current schema or an older one that can still arrive
// by rsync (the 2013 container schema with a container_stat table and no
// storage_policy_index; pre-policy account schemas), and whether it is
// usable at all.
//
//   ASSIGN_OR_RETURN(SchemaInfo schema, InspectSchema(conn));
//   RETURN_IF_ERROR(CheckSchema(schema, DbType::kContainer));
//   if (!schema.rows_have_policy_index) { /* legacy: migrate before writes */ }
//
// Thread-safety: pure functions of the connection given.
#ifndef DBREPL_COMMON_DB_SCHEMA_INFO_H_
#define DBREPL_COMMON_DB_SCHEMA_INFO_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "common/db/sqlite_connection.h"
#include "common/db_type.h"

namespace dbrepl {

struct SchemaInfo {
  bool has_account_stat = false;
  bool has_container_stat = false;
  bool container_stat_is_view = false;  // Current container schema.
  bool has_object_table = false;
  bool has_container_table = false;
  bool has_container_info = false;
  bool has_policy_stat = false;
  bool has_shard_range = false;
  // The row table (object/container) has storage_policy_index.
  bool rows_have_policy_index = false;
  // ix_<rows>_deleted_name exists (Swift's get_db_version() == 1): queries
  // may say "deleted IN (0, 1)".
  bool has_deleted_name_index = false;
  // Columns of <type>_stat.
  std::set<std::string> stat_columns;
  // container_stat is Swift's view (its text, whitespace aside): a join of
  // container_info and policy_stat, which may be read directly.
  bool swift_stat_view = false;
  // The triggers that fire when object rows are inserted or deleted are
  // exactly Swift's current ones (policy_stat's counts and
  // container_info.hash, and object_update's refusal), and none fire on the
  // tables those write: a merge may turn them off and do their arithmetic
  // itself, once per batch (ObjectTriggerEffects).
  bool swift_object_triggers = false;

  // The type the stat table says, if any.
  absl::optional<DbType> DetectType() const;
  bool HasStatColumn(const std::string& name) const { return stat_columns.count(name) > 0; }
};

// Reads sqlite_master and the columns of the tables that matter. SQLite's
// errors (DATA_LOSS for a file that is not a database). What it finds is a
// function of sqlite_master's text, remembered for the schemas seen most
// (a few dozen): a schema seen before costs one read of sqlite_master.
absl::StatusOr<SchemaInfo> InspectSchema(SqliteConnection* conn);

// OK if `schema` is a usable database of `type`. INVALID_ARGUMENT if it is a
// database of the other type (not corrupt: the caller asked for the wrong
// type). DATA_LOSS ("no such table: ...") if tables are missing.
absl::Status CheckSchema(const SchemaInfo& schema, DbType type);

// `sql` with every run of whitespace made one space, none at the ends: how
// two schema texts are compared.
std::string NormaliseSql(absl::string_view sql);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SCHEMA_INFO_H_
