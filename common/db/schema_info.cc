#include "common/db/schema_info.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

absl::StatusOr<std::set<std::string>> Columns(SqliteConnection* conn, absl::string_view table) {
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("PRAGMA table_info(", table, ")")));
  std::set<std::string> columns;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    columns.insert(st.ColumnText(1));
  }
  return columns;
}

}  // namespace

absl::optional<DbType> SchemaInfo::DetectType() const {
  if (has_container_stat) return DbType::kContainer;
  if (has_account_stat) return DbType::kAccount;
  return absl::nullopt;
}

absl::StatusOr<SchemaInfo> InspectSchema(SqliteConnection* conn) {
  SchemaInfo info;
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT type, name FROM sqlite_master"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::string type = st.ColumnText(0);
    std::string name = st.ColumnText(1);
    bool table = type == "table";
    if (name == "account_stat" && table) info.has_account_stat = true;
    if (name == "container_stat" && (table || type == "view")) {
      info.has_container_stat = true;
      info.container_stat_is_view = type == "view";
    }
    if (name == "object" && table) info.has_object_table = true;
    if (name == "container" && table) info.has_container_table = true;
    if (name == "container_info" && table) info.has_container_info = true;
    if (name == "policy_stat" && table) info.has_policy_stat = true;
    if (name == "shard_range" && table) info.has_shard_range = true;
    if (name == "ix_object_deleted_name" || name == "ix_container_deleted_name") {
      info.has_deleted_name_index = true;
    }
  }
  absl::optional<DbType> type = info.DetectType();
  if (!type.has_value()) return info;
  bool container = *type == DbType::kContainer;
  if (container ? info.has_object_table : info.has_container_table) {
    ASSIGN_OR_RETURN(info.rows_have_policy_index,
                     conn->HasColumn(container ? "object" : "container", "storage_policy_index"));
  }
  if (!container || !info.container_stat_is_view || info.has_container_info) {
    ASSIGN_OR_RETURN(info.stat_columns, Columns(conn, container ? "container_stat" : "account_stat"));
  }
  return info;
}

absl::Status CheckSchema(const SchemaInfo& schema, DbType type) {
  absl::optional<DbType> actual = schema.DetectType();
  if (actual.has_value() && *actual != type) {
    auto article = [](DbType t) { return t == DbType::kAccount ? "an " : "a "; };
    return absl::InvalidArgumentError(absl::StrCat("this is ", article(*actual), ServerType(*actual),
                                                   " database, not ", article(type), ServerType(type), " database"));
  }
  auto missing = [](absl::string_view table) {
    return absl::DataLossError(absl::StrCat("no such table: ", table));
  };
  if (type == DbType::kContainer) {
    if (!schema.has_container_stat) return missing("container_stat");
    if (!schema.has_object_table) return missing("object");
    if (schema.container_stat_is_view) {
      if (!schema.has_container_info) return missing("container_info");
      if (!schema.has_policy_stat) return missing("policy_stat");
    }
  } else {
    if (!schema.has_account_stat) return missing("account_stat");
    if (!schema.has_container_table) return missing("container");
  }
  return absl::OkStatus();
}

}  // namespace dbrepl
