#include "agent/replication_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::testing::StatusIs;

constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";
constexpr char kOther[] = "0123456789abcdef0123456789abcdef";

std::string Device() {
  static int n = 0;
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/dev", ++n);
  EXPECT_OK(MakeDirs(dir));
  return dir;
}

TEST(ReplicationLocksTest, OneHolderPerDatabaseWithinTheProcess) {
  std::string dev = Device();
  ReplicationLocks locks(DbType::kContainer);
  {
    auto a = locks.TryLock(dev, kHash);
    ASSERT_OK(a);
    EXPECT_THAT(locks.TryLock(dev, kHash), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_OK(locks.TryLock(dev, kOther));
  }
  EXPECT_OK(locks.TryLock(dev, kHash));  // Released with the Held.
}

TEST(ReplicationLocksTest, AnotherProcessCannotTakeAHeldDatabase) {
  std::string dev = Device();
  ReplicationLocks locks(DbType::kContainer);
  auto held = locks.TryLock(dev, kHash);
  ASSERT_OK(held);
  auto child_can_lock = [&](const char* hash) {
    pid_t pid = fork();
    if (pid == 0) {
      ReplicationLocks theirs(DbType::kContainer);
      _exit(theirs.TryLock(dev, hash).ok() ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  EXPECT_FALSE(child_can_lock(kHash));
  EXPECT_TRUE(child_can_lock(kOther));
  // Account and container agents have separate lock files.
  pid_t pid = fork();
  if (pid == 0) {
    ReplicationLocks accounts(DbType::kAccount);
    _exit(accounts.TryLock(dev, kHash).ok() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace dbrepl::agent
