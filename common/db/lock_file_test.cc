#include "common/db/lock_file.h"

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

TEST(LockFileTest, CreatesTheDirectoryAndTheLockFile) {
  std::string dir = NewTestDir() + "/a/b";
  ASSERT_OK_AND_ASSIGN(DirectoryLock lock, LockParentDirectory(dir + "/x.db", absl::Seconds(1)));
  EXPECT_TRUE(PathExists(dir + "/.lock"));
}

TEST(LockFileTest, SecondLockTimesOutUntilTheFirstIsReleased) {
  std::string dir = NewTestDir();
  absl::optional<DirectoryLock> first;
  {
    ASSERT_OK_AND_ASSIGN(DirectoryLock lock, LockDirectory(dir, absl::Seconds(1)));
    first.emplace(std::move(lock));
  }
  absl::Time start = absl::Now();
  EXPECT_THAT(LockDirectory(dir, absl::Milliseconds(50)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  first.reset();
  EXPECT_OK(LockDirectory(dir, absl::Milliseconds(50)));
}

TEST(LockFileTest, MovedLockStaysHeld) {
  std::string dir = NewTestDir();
  ASSERT_OK_AND_ASSIGN(DirectoryLock a, LockDirectory(dir, absl::Seconds(1)));
  DirectoryLock b = std::move(a);
  EXPECT_THAT(LockDirectory(dir, absl::Milliseconds(20)), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace dbrepl
