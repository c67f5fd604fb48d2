#include "common/paths.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::StatusIs;

TEST(PathsTest, StorageLayoutMatchesSwift) {
  EXPECT_EQ(DbFilePath("/srv/node/", "sdb1", DbType::kContainer, 931, "e8fbcd486a77117e2cd3398aa1f9485f"),
            "/srv/node/sdb1/containers/931/85f/e8fbcd486a77117e2cd3398aa1f9485f/"
            "e8fbcd486a77117e2cd3398aa1f9485f.db");
  EXPECT_EQ(StorageDirectory(DbType::kAccount, 7, "0123456789abcdef0123456789abcdef"),
            "accounts/7/def/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(DeviceTmpDir("/srv/node", "sda"), "/srv/node/sda/tmp");
}

TEST(PathsTest, DeviceNamesRejectTraversal) {
  EXPECT_THAT(ValidateDeviceName("sdb1"), IsOk());
  EXPECT_THAT(ValidateDeviceName("d-1_x.y"), IsOk());
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "../etc", "a/b", "/abs", std::string("a\0b", 3), "sp ace", "a%2f",
                          std::string(256, 'a')}) {
    EXPECT_THAT(ValidateDeviceName(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(PathsTest, HashMustBe32LowercaseHex) {
  EXPECT_THAT(ValidateHash("e8fbcd486a77117e2cd3398aa1f9485f"), IsOk());
  EXPECT_THAT(ValidateHash("E8FBCD486A77117E2CD3398AA1F9485F"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateHash("e8fbcd486a77117e2cd3398aa1f9485"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateHash("../../../../etc/passwd0000000000"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PathsTest, Partitions) {
  EXPECT_THAT(ValidatePartition(0), IsOk());
  EXPECT_THAT(ValidatePartition(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePartition(1LL << 32), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*ParsePartition("123"), 123);
  for (const char* bad : {"-5", "+5", "not-a-partition", "", "12a", "99999999999"}) {
    EXPECT_FALSE(ParsePartition(bad).ok()) << bad;
  }
}

TEST(PathsTest, JoinPath) {
  EXPECT_EQ(JoinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(StripTrailingSlashes("/srv/node//"), "/srv/node");
}

}  // namespace
}  // namespace dbrepl
