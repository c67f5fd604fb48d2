#include "common/db/db_files.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/testing/db_test_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::NewTestDir;
using ::dbrepl::testing::PathExists;
using ::dbrepl::testing::StatusIs;
using ::testing::MatchesRegex;

TEST(DbFilesTest, DirnameAndBasenameAsPython) {
  EXPECT_EQ(PythonDirname("/a/b/c.db"), "/a/b");
  EXPECT_EQ(PythonDirname("/a/b//c.db"), "/a/b");
  EXPECT_EQ(PythonDirname("c.db"), "");
  EXPECT_EQ(PythonDirname("/c.db"), "/");
  EXPECT_EQ(PythonDirname("/"), "/");
  EXPECT_EQ(PythonDirname("a/"), "a");
  EXPECT_EQ(PythonBasename("/a/b/c.db"), "c.db");
  EXPECT_EQ(PythonBasename("/a/b/"), "");
}

TEST(DbFilesTest, DevicePathIsFourLevelsAboveTheHashDir) {
  EXPECT_EQ(DevicePath("/srv/node/sdb1/containers/931/85f/e8fbcd486a77117e2cd3398aa1f9485f/x.db"), "/srv/node/sdb1");
  // Swift's quirk for files still in <dev>/tmp: four levels up, whatever the
  // directory (get_device_path in swift/common/db.py).
  EXPECT_EQ(DevicePath("/srv/node/sdb1/tmp/abc"), "/");
  EXPECT_EQ(DevicePath("/tmp/swtest/srv/node/sdb1/tmp/abc"), "/tmp/swtest");
}

TEST(DbFilesTest, DbIdIsUuid4AndDevice) {
  std::string id = NewDbId("/srv/node/sdb1/containers/931/85f/hash/hash.db");
  EXPECT_THAT(id, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-sdb1"));
  EXPECT_NE(id, NewDbId("/srv/node/sdb1/containers/931/85f/hash/hash.db"));
  EXPECT_THAT(NewDbId("/srv/node/sdb1/tmp/abc"), MatchesRegex(".*-$"));
  EXPECT_THAT(NewUuid4Hex(), MatchesRegex("[0-9a-f]{32}"));
}

TEST(DbFilesTest, QuarantineMovesTheHashDirAndAvoidsCollisions) {
  std::string root = NewTestDir();
  std::string hash_dir = root + "/sda/containers/1/abc/hashabc";
  ASSERT_OK(MakeDirs(hash_dir));
  std::ofstream(hash_dir + "/hashabc.db") << "x";
  ASSERT_OK_AND_ASSIGN(std::string target, QuarantineHashDir(hash_dir, DbType::kContainer));
  EXPECT_EQ(target, root + "/sda/quarantined/containers/hashabc");
  EXPECT_TRUE(PathExists(target + "/hashabc.db"));
  EXPECT_FALSE(PathExists(hash_dir));

  ASSERT_OK(MakeDirs(hash_dir));
  std::ofstream(hash_dir + "/hashabc.db") << "y";
  ASSERT_OK_AND_ASSIGN(std::string second, QuarantineHashDir(hash_dir, DbType::kContainer));
  EXPECT_THAT(second, MatchesRegex(".*/sda/quarantined/containers/hashabc-[0-9a-f]{32}"));
  EXPECT_TRUE(PathExists(second + "/hashabc.db"));
  EXPECT_THAT(QuarantineHashDir(hash_dir, DbType::kContainer), StatusIs(absl::StatusCode::kNotFound));
}

TEST(DbFilesTest, RemovesOnlyOldTmpFiles) {
  std::string dir = NewTestDir();
  for (const char* name : {"old.tmp", "new.tmp", "old.db"}) std::ofstream(dir + "/" + name) << "x";
  struct utimbuf old_times = {1000, 1000};
  ASSERT_EQ(utime((dir + "/old.tmp").c_str(), &old_times), 0);
  ASSERT_EQ(utime((dir + "/old.db").c_str(), &old_times), 0);
  ASSERT_OK_AND_ASSIGN(int removed, RemoveTmpFilesOlderThan(dir, absl::Now() - absl::Hours(1)));
  EXPECT_EQ(removed, 1);
  EXPECT_FALSE(PathExists(dir + "/old.tmp"));
  EXPECT_TRUE(PathExists(dir + "/new.tmp"));
  EXPECT_TRUE(PathExists(dir + "/old.db"));
  EXPECT_THAT(RemoveTmpFilesOlderThan(dir + "/missing", absl::Now()), StatusIs(absl::StatusCode::kNotFound));
}

TEST(DbFilesTest, GetDbFilesFollowsParseDbFilename) {
  const std::string dir = NewTestDir();
  for (const char* name : {"abc.db", "abc_2.db", "abc_1.db", "abc_1.db.pending", "abc", "abcd_1.db", ".db",
                           "abc_1_x.db", "abc.db-journal"}) {
    std::ofstream(absl::StrCat(dir, "/", name)) << "x";
  }
  EXPECT_THAT(GetDbFiles(dir, "abc"), ::testing::ElementsAre(dir + "/abc.db", dir + "/abc_1.db",
                                                             dir + "/abc_1_x.db", dir + "/abc_2.db"));
  EXPECT_TRUE(GetDbFiles(dir + "/missing", "abc").empty());
}

TEST(DbFilesTest, AnEpochFileMeansSharding) {
  const std::string dir = NewTestDir();
  EXPECT_FALSE(HasEpochDbFile(dir, "abc"));
  std::ofstream(dir + "/abc.db") << "x";
  std::ofstream(dir + "/abc.db.pending") << "x";
  std::ofstream(dir + "/abcd_1.db") << "x";  // Another hash's.
  EXPECT_FALSE(HasEpochDbFile(dir, "abc"));
  std::ofstream(dir + "/abc_0000001234.00000.db") << "x";
  EXPECT_TRUE(HasEpochDbFile(dir, "abc"));
  ASSERT_EQ(unlink((dir + "/abc.db").c_str()), 0);
  EXPECT_TRUE(HasEpochDbFile(dir, "abc"));  // Sharded: the epoch file alone.
  EXPECT_FALSE(HasEpochDbFile(dir + "/missing", "abc"));
}

TEST(DbFilesTest, RemoveTreeAndMakeDirs) {
  std::string dir = NewTestDir() + "/x/y/z";
  ASSERT_OK(MakeDirs(dir));
  ASSERT_OK(MakeDirs(dir));  // Idempotent.
  std::ofstream(dir + "/f") << "x";
  RemoveTree(PythonDirname(PythonDirname(dir)));
  EXPECT_FALSE(PathExists(PythonDirname(PythonDirname(dir))));
}

}  // namespace
}  // namespace dbrepl
