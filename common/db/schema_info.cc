#include "common/db/schema_info.h"

#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/db/schema.h"
#include "common/status_macros.h"
#include "glog/logging.h"

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

// SchemaInfo by the text of sqlite_master it was derived from. Bounded: a
// file with a schema of its own (not Swift's) is inspected each time once
// the memo is full.
class SchemaMemo {
 public:
  absl::optional<SchemaInfo> Get(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = known_.find(key);
    if (it == known_.end()) return absl::nullopt;
    return it->second;
  }
  void Put(std::string key, const SchemaInfo& info) {
    absl::MutexLock lock(&mu_);
    if (known_.size() < kMaxSchemas) known_.emplace(std::move(key), info);
  }

 private:
  static constexpr size_t kMaxSchemas = 64;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, SchemaInfo> known_ ABSL_GUARDED_BY(mu_);
};

SchemaMemo& Memo() {
  static SchemaMemo* const memo = new SchemaMemo;
  return *memo;
}

// The CREATE VIEW of Swift's container_stat, normalised.
const std::string& SwiftStatView() {
  static const std::string* const view = [] {
    absl::string_view ddl = kContainerStatViewDdl;
    size_t begin = ddl.find("CREATE VIEW");
    size_t end = ddl.find(';', begin);
    return new std::string(NormaliseSql(ddl.substr(begin, end - begin)));
  }();
  return *view;
}

// Swift's triggers on the object table, by name, normalised.
const std::map<std::string, std::string>& SwiftObjectTriggers() {
  static const std::map<std::string, std::string>* const triggers = [] {
    auto* out = new std::map<std::string, std::string>;
    for (absl::string_view ddl : {absl::string_view(kObjectTableDdl), absl::string_view(kContainerPolicyStatTriggersDdl)}) {
      size_t at = 0;
      while ((at = ddl.find("CREATE TRIGGER", at)) != absl::string_view::npos) {
        size_t end = ddl.find("END;", at);
        CHECK(end != absl::string_view::npos) << "a trigger without END; in the schema";
        std::string sql = NormaliseSql(ddl.substr(at, end + 3 - at));
        std::vector<std::string> words = absl::StrSplit(sql, ' ');
        CHECK_GE(words.size(), 3u);
        (*out)[words[2]] = std::move(sql);
        at = end;
      }
    }
    CHECK_EQ(out->size(), 3u) << "Swift has three triggers on object";
    return out;
  }();
  return *triggers;
}

}  // namespace

absl::optional<DbType> SchemaInfo::DetectType() const {
  if (has_container_stat) return DbType::kContainer;
  if (has_account_stat) return DbType::kAccount;
  return absl::nullopt;
}

absl::StatusOr<SchemaInfo> InspectSchema(SqliteConnection* conn) {
  // Everything below is a function of sqlite_master's text (a table's or a
  // view's columns are what its CREATE statements say), so a schema seen
  // before is answered from memory: the column lookups (a view's are
  // found by compiling it) cost more than the rest of a cold read's
  // statements together. Swift's databases come in a handful of schemas.
  std::string key;
  std::vector<std::pair<std::string, std::string>> objects;  // (type, name)
  std::string stat_view_sql;
  struct Trigger {
    std::string name, table, sql;
  };
  std::vector<Trigger> triggers;
  {
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT type, name, sql, tbl_name FROM sqlite_master"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      std::string type = st.ColumnText(0);
      std::string name = st.ColumnText(1);
      std::string sql = st.ColumnIsNull(2) ? "\x02" : st.ColumnText(2);
      absl::StrAppend(&key, type, "\x01", name, "\x01", sql, "\x03");
      if (type == "view" && name == "container_stat") stat_view_sql = sql;
      // tbl_name is a function of the trigger's text (its ON clause).
      if (type == "trigger") triggers.push_back(Trigger{name, absl::AsciiStrToLower(st.ColumnText(3)), sql});
      objects.emplace_back(std::move(type), std::move(name));
    }
  }
  if (absl::optional<SchemaInfo> known = Memo().Get(key); known.has_value()) return *std::move(known);
  SchemaInfo info;
  for (const auto& [type, name] : objects) {
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
  info.swift_stat_view = container && info.container_stat_is_view && info.has_container_info && info.has_policy_stat &&
                         NormaliseSql(stat_view_sql) == SwiftStatView();
  // Triggers on the tables a row merge writes: object's by name (normalised
  // text); any on the tables those triggers write disqualify.
  std::map<std::string, std::string> object_triggers;
  bool other_triggers = false;
  for (const Trigger& t : triggers) {
    if (t.table == "object") object_triggers[t.name] = NormaliseSql(t.sql);
    if (t.table == "policy_stat" || t.table == "container_info" || t.table == "sqlite_sequence") other_triggers = true;
  }
  info.swift_object_triggers = container && info.has_object_table && info.rows_have_policy_index &&
                               info.has_policy_stat && info.has_container_info && !other_triggers &&
                               object_triggers == SwiftObjectTriggers();
  Memo().Put(std::move(key), info);
  return info;
}

std::string NormaliseSql(absl::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
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
