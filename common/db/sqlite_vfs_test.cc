// The dbrepl VFS names files as SQLite's own would where it matters (a link
// as the last component, "." and ".."), and takes plain paths as they are.
#include "common/db/sqlite_vfs.h"

#include <sqlite3.h>
#include <unistd.h>

#include <string>

#include "common/db/testing/db_test_util.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewTestDir;

// The full pathname SQLite gives the main database opened at `path`.
std::string OpenedAs(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, DbreplVfsName());
  EXPECT_EQ(rc, SQLITE_OK) << path;
  std::string name = rc == SQLITE_OK ? sqlite3_db_filename(db, "main") : "";
  EXPECT_EQ(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1);", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  return name;
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? buf : "";
}

TEST(SqliteVfsTest, IsRegistered) { ASSERT_NE(DbreplVfsName(), nullptr); }

TEST(SqliteVfsTest, APlainPathIsTakenAsItIsEvenThroughALinkedDirectory) {
  const std::string dir = NewTestDir();
  ASSERT_EQ(mkdir((dir + "/real").c_str(), 0755), 0);
  ASSERT_EQ(symlink((dir + "/real").c_str(), (dir + "/link").c_str()), 0);
  // The journal is <path>-journal: in the same real directory either way.
  EXPECT_EQ(OpenedAs(dir + "/link/a.db"), dir + "/link/a.db");
  EXPECT_EQ(OpenedAs(dir + "/real/a.db"), dir + "/real/a.db");
}

TEST(SqliteVfsTest, ALinkAsTheLastComponentIsResolvedAsSqliteDoes) {
  const std::string dir = NewTestDir();
  OpenedAs(dir + "/target.db");
  ASSERT_EQ(symlink((dir + "/target.db").c_str(), (dir + "/alias.db").c_str()), 0);
  // The journal must sit beside the file itself, where Swift's SQLite puts it.
  EXPECT_EQ(OpenedAs(dir + "/alias.db"), RealPath(dir + "/target.db"));
}

TEST(SqliteVfsTest, DotComponentsAreResolvedAsSqliteDoes) {
  const std::string dir = NewTestDir();
  ASSERT_EQ(mkdir((dir + "/sub").c_str(), 0755), 0);
  OpenedAs(dir + "/b.db");
  EXPECT_EQ(OpenedAs(dir + "/sub/../b.db"), RealPath(dir + "/b.db"));
  EXPECT_EQ(OpenedAs(dir + "/./b.db"), RealPath(dir + "/b.db"));
  EXPECT_EQ(OpenedAs(dir + "//b.db"), RealPath(dir + "/b.db"));
}

}  // namespace
}  // namespace dbrepl
