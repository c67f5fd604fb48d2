// A thin RAII wrapper over one SQLite connection, configured as Swift's
// get_db_connection() configures its own (reference §2.1):
//
//   * SQLite's own busy timeout is 0; a "database is locked" (SQLITE_BUSY or
//     SQLITE_LOCKED) is retried here with exponential backoff from 1 ms to
//     50 ms until `busy_timeout` has passed, then UNAVAILABLE;
//   * PRAGMA synchronous = NORMAL, count_changes = OFF, temp_store = MEMORY,
//     journal_mode = DELETE (or, for a database being created, Swift's fast
//     and unsafe synchronous = OFF, journal_mode = MEMORY);
//   * the SQL function chexor(old, name, timestamp) is registered.
//
//   ASSIGN_OR_RETURN(auto conn, SqliteConnection::Open(path, {}));
//   ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare("SELECT hash FROM container_info"));
//   ASSIGN_OR_RETURN(bool row, st.Step());
//   if (row) hash = st.ColumnText(0);
//
// Writers should take a Transaction (BEGIN IMMEDIATE) before their first
// read: a deferred transaction that reads and then writes can deadlock with
// another writer, which no amount of retrying resolves.
//
// Errors (every status message names the database file):
//   NOT_FOUND    Open of a file that does not exist (it is never created
//                unless options.create).
//   DATA_LOSS    SQLite reported corruption: see IsCorruptionMessage().
//   UNAVAILABLE  still locked when busy_timeout ran out.
//   INTERNAL     any other SQLite error.
//
// Thread-safety: a connection and its statements belong to one thread at a
// time. Different connections (in any threads or processes) may share a file.
#ifndef DBREPL_COMMON_DB_SQLITE_CONNECTION_H_
#define DBREPL_COMMON_DB_SQLITE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dbrepl {

// True for SQLite messages that mean the file is damaged or not a usable
// Swift database: Swift's possibly_quarantine() list ("database disk image is
// malformed", "malformed database schema", " is not a database", "disk I/O
// error") plus the replicator's "no such table".
bool IsCorruptionMessage(absl::string_view message);

struct SqliteOpenOptions {
  absl::Duration busy_timeout = absl::Seconds(25);
  // Create the file if missing. Only Create's mkstemp'd file uses this.
  bool create = false;
  // Swift's initialize() pragmas (synchronous OFF, journal in memory) instead
  // of get_db_connection()'s.
  bool creating_schema = false;
  // The page cache's limit in KiB (PRAGMA cache_size = -N); 0: SQLite's
  // default (2000 KiB). A file read once, front to back, needs little.
  int cache_kib = 0;
  // Leave get_db_connection()'s "PRAGMA journal_mode = DELETE" to the caller
  // (SetJournalModeDelete), who runs it in its first read transaction, and
  // its "PRAGMA synchronous = NORMAL" to the first write Transaction (until
  // then SQLite's default, FULL, which is stricter): an open that only reads
  // takes one lock cycle fewer (both pragmas load the schema).
  bool journal_mode_later = false;
};

class SqliteConnection;

// A prepared statement. Bind indexes start at 1, column indexes at 0.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, absl::string_view value);
  void BindNull(int index);

  // Advances: true when a row is available, false when done. Retries a busy
  // database while no row has been returned yet.
  absl::StatusOr<bool> Step();
  // Steps to completion, discarding rows.
  absl::Status Run();
  // Ready to run again; keeps bindings.
  void Reset();

  bool ColumnIsNull(int column) const;
  // The column's storage class is INTEGER / TEXT (no conversion).
  bool ColumnIsInteger(int column) const;
  bool ColumnIsText(int column) const;
  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  // Text of the column (SQLite's conversion for numbers); "" for NULL.
  std::string ColumnText(int column) const;
  int ColumnCount() const;
  std::string ColumnName(int column) const;

 private:
  friend class SqliteConnection;
  SqliteStatement(SqliteConnection* conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}

  SqliteConnection* conn_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool returned_row_ = false;
};

class SqliteConnection {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                                const SqliteOpenOptions& options);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);
  // Runs one or more ';'-separated statements without parameters.
  absl::Status Execute(absl::string_view sql);

  // Whether `table` (a table, not a view) has `column`, from the parsed
  // schema (no statement is compiled). NOT_FOUND-free: false when either is
  // missing; an error only when the schema cannot be read.
  // "PRAGMA journal_mode = DELETE" (Swift's). Inside a transaction it
  // cannot take a database out of WAL mode: false then, and the caller runs
  // it again once the transaction is over.
  absl::StatusOr<bool> SetJournalModeDelete();

  absl::StatusOr<bool> HasColumn(const std::string& table, const std::string& column);

  // Whether statements prepared from now on fire triggers
  // (SQLITE_DBCONFIG_ENABLE_TRIGGER; on by default). It is this connection's
  // setting, not the file's. A change expires every prepared statement of
  // the connection: one stepped afterwards is compiled again under the new
  // setting. For a caller that does what the triggers would have done in
  // the same transaction (ObjectTriggerEffects); INTERNAL if SQLite refuses.
  absl::Status SetTriggersEnabled(bool enabled);

  // Rows changed by the last INSERT/UPDATE/DELETE (not counting triggers).
  int64_t Changes() const;
  // True inside BEGIN ... COMMIT/ROLLBACK.
  bool InTransaction() const;
  // True when the file this connection has open is no longer the one at
  // path() (renamed over, unlinked, its directory moved): SQLite's
  // SQLITE_FCNTL_HAS_MOVED. SQLite itself refuses to start writing to a moved
  // file ("attempt to write a readonly database"), but a rename can land
  // between that check and COMMIT; callers that must not lose a write check
  // this under the lock that every replacement of the file takes.
  bool HasMoved() const;
  const std::string& path() const { return path_; }

  // The status for SQLite result code `rc` on this connection.
  absl::Status Error(int rc, absl::string_view context) const;

 private:
  friend class SqliteStatement;
  friend class Transaction;
  SqliteConnection(std::string path, sqlite3* db, absl::Duration busy_timeout)
      : path_(std::move(path)), db_(db), busy_timeout_(busy_timeout) {}

  // Calls `attempt` until it returns something other than BUSY/LOCKED or the
  // busy timeout passes; `before_retry` runs between attempts.
  template <typename Attempt, typename BeforeRetry>
  int RetryBusy(Attempt attempt, BeforeRetry before_retry);

  // "PRAGMA synchronous = NORMAL" if it is still owed (journal_mode_later);
  // outside a transaction (SQLite refuses it inside one).
  absl::Status SetOwedSynchronous();

  const std::string path_;
  sqlite3* db_;
  const absl::Duration busy_timeout_;
  bool synchronous_owed_ = false;
};

// BEGIN IMMEDIATE (SQLite's RESERVED lock: no other writer until we are
// done) on construction; ROLLBACK on destruction unless committed.
//
// BeginRead() opens a deferred transaction instead: the first read takes
// SQLite's SHARED lock and holds it until Commit() or destruction, so every
// read in between sees one committed state of the file (in rollback-journal
// mode no writer can commit while a SHARED lock is held). Inside a
// transaction that is already open (a Lock()ed broker), BeginRead() joins it
// and ending it does nothing: the outer transaction is the snapshot.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(SqliteConnection* conn);
  static absl::StatusOr<Transaction> BeginRead(SqliteConnection* conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_), joined_(other.joined_) {
    other.conn_ = nullptr;
    other.joined_ = false;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  absl::Status Commit();

 private:
  explicit Transaction(SqliteConnection* conn, bool joined = false) : conn_(conn), joined_(joined) {}
  SqliteConnection* conn_;
  // A read that joined an outer transaction: ending it leaves that one open.
  bool joined_;
};

// Turns a connection's triggers off for its lifetime (SetTriggersEnabled);
// with a null connection it does nothing. Restore() turns them back on
// early, the destructor unless Restore() ran; both CHECK-fail if SQLite
// refuses (it cannot for this option; the connection would otherwise go on
// writing without its triggers).
class TriggersOff {
 public:
  explicit TriggersOff(SqliteConnection* conn);
  TriggersOff(const TriggersOff&) = delete;
  TriggersOff& operator=(const TriggersOff&) = delete;
  ~TriggersOff();

  // Whether turning them off worked (OK for a null connection).
  const absl::Status& status() const { return status_; }
  void Restore();

 private:
  SqliteConnection* conn_;
  absl::Status status_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SQLITE_CONNECTION_H_
