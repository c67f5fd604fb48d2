#include "common/db/sqlite_connection.h"

#include <fstream>

#include "absl/time/clock.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewTestDir;
using ::dbrepl::testing::PathExists;
using ::dbrepl::testing::Query;
using ::dbrepl::testing::StatusIs;
using ::testing::ElementsAre;

std::unique_ptr<SqliteConnection> NewDb(const std::string& path, absl::Duration busy = absl::Seconds(1)) {
  SqliteOpenOptions options;
  options.create = true;
  options.busy_timeout = busy;
  auto conn = SqliteConnection::Open(path, options);
  EXPECT_OK(conn);
  return conn.ok() ? *std::move(conn) : nullptr;
}

TEST(SqliteConnectionTest, ADeferredSynchronousIsSetBeforeTheFirstWriteTransaction) {
  std::string path = NewTestDir() + "/later.db";
  ASSERT_NE(NewDb(path), nullptr);
  SqliteOpenOptions options;
  options.journal_mode_later = true;
  ASSERT_OK_AND_ASSIGN(auto conn, SqliteConnection::Open(path, options));
  // Reads run with SQLite's default (FULL): stricter, never looser.
  EXPECT_THAT(Query(conn.get(), "PRAGMA synchronous"), ElementsAre(ElementsAre("2")));
  {
    ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(conn.get()));
    ASSERT_OK(conn->Execute("CREATE TABLE t (x)"));
    ASSERT_OK(txn.Commit());
  }
  EXPECT_THAT(Query(conn.get(), "PRAGMA synchronous"), ElementsAre(ElementsAre("1")));  // Swift's NORMAL.
  // And the journal mode, in a read transaction.
  {
    ASSERT_OK_AND_ASSIGN(Transaction read, Transaction::BeginRead(conn.get()));
    ASSERT_OK_AND_ASSIGN(bool set, conn->SetJournalModeDelete());
    EXPECT_TRUE(set);
    ASSERT_OK(read.Commit());
  }
  EXPECT_THAT(Query(conn.get(), "PRAGMA journal_mode"), ElementsAre(ElementsAre("delete")));
}

TEST(SqliteConnectionTest, OpenMissingFileIsNotFoundAndCreatesNothing) {
  std::string path = NewTestDir() + "/missing.db";
  EXPECT_THAT(SqliteConnection::Open(path, {}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(PathExists(path));
}

TEST(SqliteConnectionTest, AppliesSwiftPragmas) {
  auto conn = NewDb(NewTestDir() + "/a.db");
  EXPECT_THAT(Query(conn.get(), "PRAGMA journal_mode"), ElementsAre(ElementsAre("delete")));
  EXPECT_THAT(Query(conn.get(), "PRAGMA synchronous"), ElementsAre(ElementsAre("1")));  // NORMAL
  EXPECT_THAT(Query(conn.get(), "PRAGMA temp_store"), ElementsAre(ElementsAre("2")));   // MEMORY
}

TEST(SqliteConnectionTest, ChexorSqlFunctionMatchesReference) {
  auto conn = NewDb(NewTestDir() + "/a.db");
  EXPECT_THAT(Query(conn.get(), "SELECT chexor('00000000000000000000000000000000', 'o', '0000000001.00000')"),
              ElementsAre(ElementsAre("74930d4241dd50160de5da0a94a90443")));
  // SQLite concatenation turns integers into text, as the account trigger relies on.
  EXPECT_THAT(Query(conn.get(), "SELECT chexor('0', 'c1', '0000000001.00000' || '-' || '0' || '-' || 0 || '-' || 0)"),
              ElementsAre(ElementsAre("bd62d034af88897b23b1e4c135b8ecd5")));
  EXPECT_THAT(conn->Execute("SELECT chexor('0', NULL, '1')"), StatusIs(absl::StatusCode::kInternal));
}

TEST(SqliteConnectionTest, BusyDatabaseTimesOutAsUnavailable) {
  std::string path = NewTestDir() + "/a.db";
  auto holder = NewDb(path);
  ASSERT_OK(holder->Execute("CREATE TABLE t (x)"));
  ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(holder.get()));
  auto waiter = NewDb(path, absl::Milliseconds(120));
  absl::Time start = absl::Now();
  EXPECT_THAT(Transaction::Begin(waiter.get()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(120));  // It retried for the whole timeout.
  ASSERT_OK(txn.Commit());
  ASSERT_OK_AND_ASSIGN(Transaction second, Transaction::Begin(waiter.get()));
  EXPECT_OK(second.Commit());
}

TEST(SqliteConnectionTest, TransactionRollsBackUnlessCommitted) {
  auto conn = NewDb(NewTestDir() + "/a.db");
  ASSERT_OK(conn->Execute("CREATE TABLE t (x)"));
  {
    ASSERT_OK_AND_ASSIGN(Transaction txn, Transaction::Begin(conn.get()));
    ASSERT_OK(conn->Execute("INSERT INTO t VALUES (1)"));
    EXPECT_TRUE(conn->InTransaction());
    EXPECT_THAT(Transaction::Begin(conn.get()), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_FALSE(conn->InTransaction());
  EXPECT_THAT(Query(conn.get(), "SELECT COUNT(*) FROM t"), ElementsAre(ElementsAre("0")));
}

TEST(SqliteConnectionTest, GarbageFileIsDataLoss) {
  std::string path = NewTestDir() + "/junk.db";
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_THAT(SqliteConnection::Open(path, {}), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SqliteConnectionTest, ClassifiesCorruptionMessages) {
  EXPECT_TRUE(IsCorruptionMessage("database disk image is malformed"));
  EXPECT_TRUE(IsCorruptionMessage("malformed database schema (x)"));
  EXPECT_TRUE(IsCorruptionMessage("file is not a database"));
  EXPECT_TRUE(IsCorruptionMessage("file is encrypted or is not a database"));
  EXPECT_TRUE(IsCorruptionMessage("disk I/O error"));
  EXPECT_TRUE(IsCorruptionMessage("no such table: container_stat"));
  EXPECT_FALSE(IsCorruptionMessage("database is locked"));
  EXPECT_FALSE(IsCorruptionMessage("no such column: storage_policy_index"));
}

}  // namespace
}  // namespace dbrepl
