#include "common/db/schema_verify.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/db/legacy_schema.h"
#include "common/db/migrations.h"
#include "common/db/schema.h"
#include "common/db/schema_info.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

struct KnownSchema {
  // sqlite_master type ("table", "index", "view", "trigger") -> name -> the
  // normalised SQL texts Swift has used for it ("" for automatic indexes).
  std::map<std::string, std::map<std::string, std::set<std::string>>> objects;
  // table -> every column any known version has.
  std::map<std::string, std::set<std::string>> columns;
};

absl::Status Collect(SqliteConnection* conn, KnownSchema* known) {
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT type, name, sql FROM sqlite_master"));
  std::vector<std::string> tables;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    std::string type = st.ColumnText(0);
    std::string name = st.ColumnText(1);
    known->objects[type][name].insert(NormaliseSql(st.ColumnText(2)));
    if (type == "table") tables.push_back(name);
  }
  for (const std::string& table : tables) {
    ASSIGN_OR_RETURN(SqliteStatement cols, conn->Prepare(absl::StrCat("PRAGMA table_info(\"", table, "\")")));
    while (true) {
      ASSIGN_OR_RETURN(bool row, cols.Step());
      if (!row) break;
      known->columns[table].insert(cols.ColumnText(1));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteConnection>> Scratch() {
  SqliteOpenOptions options;
  options.create = true;
  options.creating_schema = true;
  return SqliteConnection::Open(":memory:", options);
}

// Every schema object Swift's code creates for `type`: today's schema, the
// pre-policy container schema, and that schema after Swift's migration.
absl::StatusOr<KnownSchema> BuildKnown(DbType type) {
  KnownSchema known;
  NewDatabase db{"a", type == DbType::kContainer ? "c" : "", "0000000001.00000", "0000000001.00000", "id", 0};
  {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, Scratch());
    RETURN_IF_ERROR(CreateSchema(conn.get(), type, db));
    RETURN_IF_ERROR(Collect(conn.get(), &known));
  }
  if (type == DbType::kContainer) {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, Scratch());
    RETURN_IF_ERROR(conn->Execute(kSyncTablesDdl));
    RETURN_IF_ERROR(conn->Execute(kLegacyObjectDdl));
    RETURN_IF_ERROR(conn->Execute(kLegacyContainerStatDdl));
    RETURN_IF_ERROR(Collect(conn.get(), &known));
    ASSIGN_OR_RETURN(SchemaInfo schema, InspectSchema(conn.get()));
    RETURN_IF_ERROR(MigrateContainerAddStoragePolicy(conn.get(), schema));
    RETURN_IF_ERROR(Collect(conn.get(), &known));
  }
  return known;
}

const KnownSchema& Known(DbType type) {
  static const KnownSchema* const container = new KnownSchema(*BuildKnown(DbType::kContainer));
  static const KnownSchema* const account = new KnownSchema(*BuildKnown(DbType::kAccount));
  return type == DbType::kContainer ? *container : *account;
}

// The columns Swift's code reads from each table, in every version.
const std::map<std::string, std::set<std::string>>& Required(DbType type) {
  static const auto* const container = new std::map<std::string, std::set<std::string>>{
      {"object", {"name", "created_at", "size", "content_type", "etag", "deleted"}},
      {"incoming_sync", {"remote_id", "sync_point", "updated_at"}},
      {"outgoing_sync", {"remote_id", "sync_point", "updated_at"}},
      {"container_stat",
       {"account", "container", "created_at", "put_timestamp", "delete_timestamp", "object_count", "bytes_used",
        "reported_put_timestamp", "reported_delete_timestamp", "reported_object_count", "reported_bytes_used",
        "hash", "id", "status", "status_changed_at"}},
      {"container_info",
       {"account", "container", "created_at", "put_timestamp", "delete_timestamp", "reported_put_timestamp",
        "reported_delete_timestamp", "reported_object_count", "reported_bytes_used", "hash", "id", "status",
        "status_changed_at", "storage_policy_index"}},
      {"policy_stat", {"storage_policy_index", "object_count", "bytes_used"}},
  };
  static const auto* const account = new std::map<std::string, std::set<std::string>>{
      {"container", {"name", "put_timestamp", "delete_timestamp", "object_count", "bytes_used", "deleted"}},
      {"incoming_sync", {"remote_id", "sync_point", "updated_at"}},
      {"outgoing_sync", {"remote_id", "sync_point", "updated_at"}},
      {"account_stat",
       {"account", "created_at", "put_timestamp", "delete_timestamp", "container_count", "object_count",
        "bytes_used", "hash", "id", "status", "status_changed_at"}},
  };
  return type == DbType::kContainer ? *container : *account;
}

absl::Status NotSwift(DbType type, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("not a Swift ", ServerType(type), " database: ", what));
}

// The verdict is a function of the type and sqlite_master's rows (columns
// come from the tables' SQL text): the texts found to be Swift's, so that
// uploads written by the same Swift version (nearly all of them) cost one
// SELECT. Bounded: a flood of distinct schemas only forgets.
class VerifiedSchemas {
 public:
  bool Contains(const std::string& text) {
    absl::MutexLock lock(&mu_);
    return texts_.count(text) > 0;
  }
  void Add(std::string text) {
    absl::MutexLock lock(&mu_);
    if (texts_.size() >= kMax) texts_.clear();
    texts_.insert(std::move(text));
  }

 private:
  static constexpr size_t kMax = 64;
  absl::Mutex mu_;
  std::set<std::string> texts_ ABSL_GUARDED_BY(mu_);
};

VerifiedSchemas& Verified() {
  static VerifiedSchemas* const verified = new VerifiedSchemas;
  return *verified;
}

// The type, then each sqlite_master row NUL-separated: its type, name, table
// and SQL (rootpage only as "is it null": page numbers differ from file to
// file, and the verdict does not depend on them).
absl::StatusOr<std::string> SchemaText(SqliteConnection* conn, DbType type) {
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare("SELECT type, name, tbl_name, rootpage IS NULL, sql FROM sqlite_master ORDER BY rowid"));
  std::string text(ServerType(type));
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    for (int c = 0; c < 5; ++c) absl::StrAppend(&text, std::string(1, '\0'), st.ColumnText(c));
  }
  return text;
}

absl::Status VerifyUncached(SqliteConnection* conn, DbType type) {
  ASSIGN_OR_RETURN(SchemaInfo info, InspectSchema(conn));
  RETURN_IF_ERROR(CheckSchema(info, type));
  KnownSchema upload;
  RETURN_IF_ERROR(Collect(conn, &upload));
  const KnownSchema& known = Known(type);
  for (const auto& [kind, names] : upload.objects) {
    auto known_kind = known.objects.find(kind);
    for (const auto& [name, sqls] : names) {
      bool automatic = kind == "index" && name.rfind("sqlite_autoindex_", 0) == 0;
      if (automatic) continue;
      if (known_kind == known.objects.end() || known_kind->second.count(name) == 0) {
        return NotSwift(type, absl::StrCat(kind, " '", name, "' is not part of Swift's schema"));
      }
      if (kind == "table") continue;  // Tables are checked by their columns.
      const std::set<std::string>& allowed = known_kind->second.at(name);
      for (const std::string& sql : sqls) {
        if (allowed.count(sql) == 0) {
          return NotSwift(type, absl::StrCat(kind, " '", name, "' differs from Swift's: ", sql.substr(0, 200)));
        }
      }
    }
  }
  for (const auto& [table, cols] : upload.columns) {
    const std::set<std::string>& allowed = known.columns.at(table);
    for (const std::string& col : cols) {
      if (allowed.count(col) == 0) {
        return NotSwift(type, absl::StrCat("table '", table, "' has a column '", col, "' Swift never creates"));
      }
    }
  }
  for (const auto& [table, cols] : Required(type)) {
    auto present = upload.columns.find(table);
    if (present == upload.columns.end()) {
      if (table == "container_stat" && upload.columns.count("container_info") > 0) continue;  // A view now.
      if (table == "container_info" || table == "policy_stat") continue;  // Only in the policy schema.
      return NotSwift(type, absl::StrCat("table '", table, "' is missing"));
    }
    std::vector<std::string> missing;
    for (const std::string& col : cols) {
      if (present->second.count(col) == 0) missing.push_back(col);
    }
    if (!missing.empty()) {
      return NotSwift(type, absl::StrCat("table '", table, "' lacks ", absl::StrJoin(missing, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifySwiftSchema(SqliteConnection* conn, DbType type) {
  ASSIGN_OR_RETURN(std::string text, SchemaText(conn, type));
  if (Verified().Contains(text)) return absl::OkStatus();
  RETURN_IF_ERROR(VerifyUncached(conn, type));
  Verified().Add(std::move(text));
  return absl::OkStatus();
}

absl::Status VerifySwiftDatabaseOn(SqliteConnection* conn, DbType type) {
  RETURN_IF_ERROR(VerifySwiftSchema(conn, type));
  ASSIGN_OR_RETURN(SqliteStatement check, conn->Prepare("PRAGMA quick_check"));
  ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row || check.ColumnText(0) != "ok") {
    return absl::DataLossError(absl::StrCat("quick_check: ", row ? check.ColumnText(0) : "no answer"));
  }
  return absl::OkStatus();
}

}  // namespace dbrepl
