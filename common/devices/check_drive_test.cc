#include "common/devices/check_drive.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::testing::HasSubstr;

std::string NewRoot() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/devices.XXXXXX");
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

TEST(IsMountTest, RootAndProcAreMountsPlainDirectoriesAreNot) {
  EXPECT_TRUE(IsMount("/"));       // same inode as its parent
  EXPECT_TRUE(IsMount("/proc"));   // another filesystem
  const std::string root = NewRoot();
  EXPECT_FALSE(IsMount(root));
  EXPECT_FALSE(IsMount(root + "/absent"));
}

TEST(IsMountTest, DotIsmountStubCounts) {
  const std::string root = NewRoot();
  ASSERT_EQ(mkdir((root + "/sdb").c_str(), 0755), 0);
  EXPECT_FALSE(IsMount(root + "/sdb"));
  std::ofstream(root + "/sdb/.ismount").put('\n');
  EXPECT_TRUE(IsMount(root + "/sdb"));
  // A symlinked device counts only through the stub in its target.
  ASSERT_EQ(mkdir((root + "/target").c_str(), 0755), 0);
  ASSERT_EQ(symlink((root + "/target").c_str(), (root + "/link").c_str()), 0);
  EXPECT_FALSE(IsMount(root + "/link"));
  std::ofstream(root + "/target/.ismount").put('\n');
  EXPECT_TRUE(IsMount(root + "/link"));
}

TEST(CheckDriveTest, WithoutMountCheckADirectoryIsEnough) {
  const std::string root = NewRoot();
  ASSERT_EQ(mkdir((root + "/sdb1").c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(std::string path, CheckDrive(root, "sdb1", false));
  EXPECT_EQ(path, root + "/sdb1");
  ASSERT_OK_AND_ASSIGN(std::string slash, CheckDrive(root + "/", "sdb1", false));
  EXPECT_EQ(slash, root + "/sdb1");

  absl::StatusOr<std::string> missing = CheckDrive(root, "sdc1", false);
  EXPECT_TRUE(IsDeviceUnavailable(missing.status()));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(root + "/sdc1 is not a directory"));

  std::ofstream(root + "/file").put('x');
  EXPECT_TRUE(IsDeviceUnavailable(CheckDrive(root, "file", false).status()));
}

TEST(CheckDriveTest, WithMountCheckTheDeviceMustBeMounted) {
  const std::string root = NewRoot();
  ASSERT_EQ(mkdir((root + "/sdb1").c_str(), 0755), 0);
  absl::StatusOr<std::string> unmounted = CheckDrive(root, "sdb1", true);
  EXPECT_TRUE(IsDeviceUnavailable(unmounted.status()));
  EXPECT_THAT(std::string(unmounted.status().message()), HasSubstr(root + "/sdb1 is not mounted"));
  ASSERT_OK_AND_ASSIGN(std::string proc, CheckDrive("/", "proc", true));
  EXPECT_EQ(proc, "/proc");
}

TEST(CheckDriveTest, InvalidDeviceNamesAreRejectedBeforeTouchingDisk) {
  for (const char* device : {"", "..", ".", "a/b", "sd b", "sd\nb"}) {
    absl::StatusOr<std::string> r = CheckDrive("/", device, false);
    EXPECT_TRUE(IsDeviceUnavailable(r.status())) << device;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("is not a valid drive name")) << device;
  }
}

}  // namespace
}  // namespace dbrepl
