#include "common/db/sqlite_connection.h"

#include <sqlite3.h>

#include <errno.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "common/chexor.h"
#include "common/db/sqlite_vfs.h"
#include "common/python_float.h"

namespace dbrepl {
namespace {

constexpr absl::Duration kFirstRetryWait = absl::Milliseconds(1);
constexpr absl::Duration kMaxRetryWait = absl::Milliseconds(50);

bool IsBusy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Python's '%s' % value for what SQLite hands a Python function.
std::string PythonStr(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_NULL:
      return "None";
    case SQLITE_FLOAT:
      return PythonFloatRepr(sqlite3_value_double(v));
    default: {
      const unsigned char* text = sqlite3_value_text(v);
      return text == nullptr ? "" : std::string(reinterpret_cast<const char*>(text), sqlite3_value_bytes(v));
    }
  }
}

void ChexorSqlFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_error(ctx, "name is None!", -1);
    return;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_error(ctx, "chexor: hash is NULL", -1);
    return;
  }
  auto result = Chexor(PythonStr(argv[0]), PythonStr(argv[1]), PythonStr(argv[2]));
  if (!result.ok()) {
    std::string message(result.status().message());
    sqlite3_result_error(ctx, message.c_str(), -1);
    return;
  }
  sqlite3_result_text(ctx, result->data(), static_cast<int>(result->size()), SQLITE_TRANSIENT);
}

}  // namespace

bool IsCorruptionMessage(absl::string_view message) {
  return absl::StrContains(message, "database disk image is malformed") ||
         absl::StrContains(message, "malformed database schema") ||
         absl::StrContains(message, " is not a database") || absl::StrContains(message, "disk I/O error") ||
         absl::StrContains(message, "no such table");
}

// ---------------------------------------------------------------------------
// SqliteConnection

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                         const SqliteOpenOptions& options) {
  // Once, before SQLite initializes: no global memory statistics (a mutex
  // around every allocation, and a cold open is thousands of them while the
  // schema is parsed). Refused harmlessly if something initialized it first.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, DbreplVfsName());
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
    sqlite3_close(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN) {
      // "Cannot open" is "not found" only when the file is not there: out of
      // file descriptors, a permission problem or a bad directory must not
      // look like a missing database (a sender would ship a whole copy).
      struct stat st;
      if (system_errno == ENOENT || (system_errno == 0 && stat(path.c_str(), &st) != 0 && errno == ENOENT)) {
        return absl::NotFoundError(absl::StrCat("DB ", path, " doesn't exist (", message, ")"));
      }
      std::string detail = absl::StrCat("cannot open ", path, ": ", message,
                                        system_errno != 0 ? absl::StrCat(" (", std::strerror(system_errno), ")") : "");
      if (system_errno == EMFILE || system_errno == ENFILE || system_errno == ENOMEM) {
        return absl::UnavailableError(detail);
      }
      return absl::InternalError(detail);
    }
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", message));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 0);
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(path, db, options.busy_timeout));
  // cell_size_check: every b-tree page is checked as it is loaded, so a
  // damaged page is found (and the database quarantined) by whatever reads
  // it, a replication state read included, not only by the query that
  // happens to trip over the damaged cell.
  const char* pragmas = options.creating_schema
                            ? "PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA journal_mode = MEMORY; "
                              "PRAGMA cell_size_check = ON;"
                        : options.journal_mode_later
                            ? "PRAGMA count_changes = OFF; PRAGMA temp_store = MEMORY; PRAGMA cell_size_check = ON;"
                            : "PRAGMA synchronous = NORMAL; PRAGMA count_changes = OFF; "
                              "PRAGMA temp_store = MEMORY; PRAGMA journal_mode = DELETE; PRAGMA cell_size_check = ON;";
  if (absl::Status s = conn->Execute(pragmas); !s.ok()) return s;
  conn->synchronous_owed_ = !options.creating_schema && options.journal_mode_later;
  if (options.cache_kib > 0) {
    if (absl::Status s = conn->Execute(absl::StrCat("PRAGMA cache_size = -", options.cache_kib)); !s.ok()) return s;
  }
  rc = sqlite3_create_function_v2(db, "chexor", 3, SQLITE_UTF8, nullptr, &ChexorSqlFunction, nullptr, nullptr,
                                  nullptr);
  if (rc != SQLITE_OK) return conn->Error(rc, "registering chexor");
  return conn;
}

SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

absl::Status SqliteConnection::SetOwedSynchronous() {
  if (!synchronous_owed_) return absl::OkStatus();
  if (absl::Status s = Execute("PRAGMA synchronous = NORMAL"); !s.ok()) return s;
  synchronous_owed_ = false;
  return absl::OkStatus();
}

absl::StatusOr<bool> SqliteConnection::SetJournalModeDelete() {
  absl::Status s = Execute("PRAGMA journal_mode = DELETE");
  if (s.ok()) return true;
  if (!sqlite3_get_autocommit(db_) && absl::StrContains(s.message(), "wal mode")) return false;
  return s;
}

absl::StatusOr<bool> SqliteConnection::HasColumn(const std::string& table, const std::string& column) {
  int rc = RetryBusy(
      [&] {
        return sqlite3_table_column_metadata(db_, "main", table.c_str(), column.c_str(), nullptr, nullptr, nullptr,
                                             nullptr, nullptr);
      },
      [] {});
  if (rc == SQLITE_OK) return true;
  if (rc == SQLITE_ERROR && absl::StartsWith(sqlite3_errmsg(db_), "no such table column")) return false;
  return Error(rc, absl::StrCat("looking up ", table, ".", column));
}

template <typename Attempt, typename BeforeRetry>
int SqliteConnection::RetryBusy(Attempt attempt, BeforeRetry before_retry) {
  int rc = attempt();
  if (!IsBusy(rc)) return rc;
  absl::Time deadline = absl::Now() + busy_timeout_;
  absl::Duration wait = kFirstRetryWait;
  while (IsBusy(rc) && absl::Now() < deadline) {
    absl::SleepFor(std::min(wait, std::max(deadline - absl::Now(), absl::ZeroDuration())));
    wait = std::min(wait * 2, kMaxRetryWait);
    before_retry();
    rc = attempt();
  }
  return rc;
}

absl::Status SqliteConnection::Error(int rc, absl::string_view context) const {
  std::string message = sqlite3_errmsg(db_);
  if (message.empty() || message == "not an error") message = sqlite3_errstr(rc);
  std::string full = absl::StrCat(path_, ": ", context, ": ", message, rc != (rc & 0xff) ? absl::StrCat(" (extended code ", rc, ")") : "");
  int primary = rc & 0xff;
  if (IsCorruptionMessage(message) || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
      primary == SQLITE_IOERR) {
    return absl::DataLossError(full);
  }
  if (rc == SQLITE_READONLY_DBMOVED) {
    return absl::UnavailableError(absl::StrCat(full, " (the file was replaced or removed since it was opened)"));
  }
  if (IsBusy(rc)) {
    return absl::UnavailableError(
        absl::StrCat(full, " (still locked after ", absl::FormatDuration(busy_timeout_), ")"));
  }
  return absl::InternalError(full);
}

absl::StatusOr<SqliteStatement> SqliteConnection::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = RetryBusy(
      [&] { return sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr); }, [] {});
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, absl::StrCat("preparing '", sql.substr(0, 80), "'"));
  }
  return SqliteStatement(this, stmt);
}

absl::Status SqliteConnection::Execute(absl::string_view sql) {
  while (true) {
    const char* tail = nullptr;
    sqlite3_stmt* stmt = nullptr;
    int rc = RetryBusy(
        [&] { return sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail); }, [] {});
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(rc, absl::StrCat("preparing '", sql.substr(0, 80), "'"));
    }
    if (stmt == nullptr) return absl::OkStatus();  // Only whitespace or comments left.
    SqliteStatement st(this, stmt);
    if (absl::Status s = st.Run(); !s.ok()) return s;
    sql.remove_prefix(tail - sql.data());
  }
}

absl::Status SqliteConnection::SetTriggersEnabled(bool enabled) {
  int now = -1;
  int rc = sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, enabled ? 1 : 0, &now);
  if (rc != SQLITE_OK || now != (enabled ? 1 : 0)) {
    return absl::InternalError(absl::StrCat(path_, ": could not ", enabled ? "enable" : "disable", " triggers"));
  }
  return absl::OkStatus();
}

TriggersOff::TriggersOff(SqliteConnection* conn) : conn_(conn) {
  if (conn_ != nullptr) status_ = conn_->SetTriggersEnabled(false);
}

TriggersOff::~TriggersOff() { Restore(); }

void TriggersOff::Restore() {
  if (conn_ == nullptr) return;
  absl::Status restored = conn_->SetTriggersEnabled(true);
  CHECK(restored.ok()) << restored;
  conn_ = nullptr;
}

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

bool SqliteConnection::HasMoved() const {
  int moved = 0;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK) return true;
  return moved != 0;
}

// ---------------------------------------------------------------------------
// SqliteStatement

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : conn_(other.conn_), stmt_(other.stmt_), returned_row_(other.returned_row_) {
  other.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    conn_ = other.conn_;
    stmt_ = other.stmt_;
    returned_row_ = other.returned_row_;
    other.stmt_ = nullptr;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void SqliteStatement::BindDouble(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void SqliteStatement::BindText(int index, absl::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void SqliteStatement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

absl::StatusOr<bool> SqliteStatement::Step() {
  int rc;
  if (returned_row_) {
    // A busy error after rows were returned cannot be retried transparently.
    rc = sqlite3_step(stmt_);
  } else {
    rc = conn_->RetryBusy([&] { return sqlite3_step(stmt_); }, [&] { sqlite3_reset(stmt_); });
  }
  if (rc == SQLITE_ROW) {
    returned_row_ = true;
    return true;
  }
  if (rc == SQLITE_DONE) return false;
  absl::Status status = conn_->Error(rc, absl::StrCat("running '", absl::string_view(sqlite3_sql(stmt_)).substr(0, 80), "'"));
  sqlite3_reset(stmt_);
  returned_row_ = false;
  return status;
}

absl::Status SqliteStatement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
  }
  Reset();
  return absl::OkStatus();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  returned_row_ = false;
}

bool SqliteStatement::ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
bool SqliteStatement::ColumnIsInteger(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_INTEGER;
}
bool SqliteStatement::ColumnIsText(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_TEXT; }
int64_t SqliteStatement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqliteStatement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
std::string SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}
int SqliteStatement::ColumnCount() const { return sqlite3_column_count(stmt_); }
std::string SqliteStatement::ColumnName(int column) const { return sqlite3_column_name(stmt_, column); }

// ---------------------------------------------------------------------------
// Transaction

absl::StatusOr<Transaction> Transaction::Begin(SqliteConnection* conn) {
  if (conn->InTransaction()) {
    return absl::FailedPreconditionError(
        absl::StrCat(conn->path(), ": a transaction is already open on this connection (is the broker locked?)"));
  }
  if (absl::Status s = conn->SetOwedSynchronous(); !s.ok()) return s;
  if (absl::Status s = conn->Execute("BEGIN IMMEDIATE"); !s.ok()) return s;
  return Transaction(conn);
}

absl::StatusOr<Transaction> Transaction::BeginRead(SqliteConnection* conn) {
  if (conn->InTransaction()) return Transaction(nullptr, /*joined=*/true);
  if (absl::Status s = conn->Execute("BEGIN DEFERRED"); !s.ok()) return s;
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr && conn_->InTransaction()) conn_->Execute("ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  if (joined_) {
    joined_ = false;
    return absl::OkStatus();
  }
  if (conn_ == nullptr) return absl::FailedPreconditionError("transaction already finished");
  absl::Status s = conn_->Execute("COMMIT");
  if (s.ok()) conn_ = nullptr;
  return s;
}

}  // namespace dbrepl
