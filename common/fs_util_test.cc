#include "common/fs_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::UnorderedElementsAre;

class FsUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/fs.XXXXXX");
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void Touch(const std::string& path, const std::string& text = "") { std::ofstream(path) << text; }
  mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  std::string dir_;
};

TEST_F(FsUtilTest, ListDirectoryNamesEntriesButNotDots) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> empty, ListDirectory(dir_));
  EXPECT_TRUE(empty.empty());
  Touch(dir_ + "/a");
  Touch(dir_ + "/.hidden");
  ASSERT_OK(MakeDirs(dir_ + "/sub"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListDirectory(dir_));
  EXPECT_THAT(names, UnorderedElementsAre("a", ".hidden", "sub"));
  EXPECT_THAT(ListDirectory(dir_ + "/absent"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ListDirectory(dir_ + "/a"), StatusIs(absl::StatusCode::kFailedPrecondition));  // ENOTDIR
}

TEST_F(FsUtilTest, ReadFileReadsEverything) {
  const std::string big(200000, 'x');
  Touch(dir_ + "/f", big);
  ASSERT_OK_AND_ASSIGN(std::string contents, ReadFile(dir_ + "/f"));
  EXPECT_EQ(contents, big);
  EXPECT_THAT(ReadFile(dir_ + "/absent"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(FsUtilTest, WriteFileAtomicallyReplacesWholeAndLeavesNoTemporary) {
  const std::string path = dir_ + "/ring.gz";
  Touch(path, "old");
  ASSERT_OK(WriteFileAtomically(path, "new contents"));
  ASSERT_OK_AND_ASSIGN(std::string contents, ReadFile(path));
  EXPECT_EQ(contents, "new contents");
  EXPECT_EQ(Mode(path), 0644u);
  AtomicWriteOptions private_cache;
  private_cache.mode = 0600;
  private_cache.durable = false;
  ASSERT_OK(WriteFileAtomically(path, "", private_cache));
  EXPECT_EQ(*ReadFile(path), "");
  EXPECT_EQ(Mode(path), 0600u);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListDirectory(dir_));
  EXPECT_THAT(names, UnorderedElementsAre("ring.gz"));
}

TEST_F(FsUtilTest, WriteFileAtomicallyFailsWithoutTouchingTheTarget) {
  EXPECT_THAT(WriteFileAtomically(dir_ + "/no/such/dir/f", "x"), StatusIs(absl::StatusCode::kNotFound));
  // A directory in the way: the rename fails, the temporary is removed.
  ASSERT_OK(MakeDirs(dir_ + "/d/inner"));
  EXPECT_FALSE(WriteFileAtomically(dir_ + "/d", "x").ok());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListDirectory(dir_));
  EXPECT_THAT(names, UnorderedElementsAre("d"));
  EXPECT_TRUE(IsDirectory(dir_ + "/d/inner"));
}

TEST_F(FsUtilTest, MakeDirsAndRenameDurably) {
  ASSERT_OK(MakeDirs(dir_ + "/a/b/c"));
  ASSERT_OK(MakeDirs(dir_ + "/a/b/c"));
  EXPECT_TRUE(IsDirectory(dir_ + "/a/b/c"));
  Touch(dir_ + "/file");
  EXPECT_THAT(MakeDirs(dir_ + "/file/x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(RenameDurably(dir_ + "/file", dir_ + "/x/y/file"));
  EXPECT_FALSE(PathExists(dir_ + "/file"));
  EXPECT_TRUE(PathExists(dir_ + "/x/y/file"));
  EXPECT_THAT(RenameDurably(dir_ + "/file", dir_ + "/z"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(PathTest, DirnameAndBasename) {
  EXPECT_EQ(Dirname("a/b/c"), "a/b");
  EXPECT_EQ(Dirname("c"), ".");
  EXPECT_EQ(Dirname("/c"), "/");
  EXPECT_EQ(Basename("a/b/c"), "c");
  EXPECT_EQ(Basename("c"), "c");
}

}  // namespace
}  // namespace dbrepl
