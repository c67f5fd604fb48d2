#include "common/config/swift_conf.h"

#include "common/config/testing/config_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::dbrepl::testing::WriteTempConfig;
using ::testing::HasSubstr;

TEST(SwiftConfTest, ReadsPrefixAndSuffix) {
  const std::string path = WriteTempConfig("swift.conf",
                                           "[swift-hash]\n# comment\nswift_hash_path_suffix = changeme\n"
                                           "swift_hash_path_prefix = pre%%fix\n\n[storage-policy:0]\nname = gold\n");
  ASSERT_OK_AND_ASSIGN(HashPathConfig c, LoadHashPathConfig(path));
  EXPECT_EQ(c.suffix, "changeme");
  EXPECT_EQ(c.prefix, "pre%fix");  // plain ConfigParser: %% is %
  EXPECT_EQ(HashPath(c, "a", "c"), HashPath({"pre%fix", "changeme"}, "a", "c"));
}

TEST(SwiftConfTest, OneOfTheTwoIsEnough) {
  ASSERT_OK_AND_ASSIGN(HashPathConfig c,
                       LoadHashPathConfig(WriteTempConfig("swift.conf", "[swift-hash]\nswift_hash_path_suffix = s\n")));
  EXPECT_EQ(c.prefix, "");
  EXPECT_EQ(c.suffix, "s");
  EXPECT_EQ(SwiftConfPath("/etc/swift/"), "/etc/swift/swift.conf");
}

TEST(SwiftConfTest, BothMissingOrEmptyIsAnError) {
  for (const char* text : {"", "[swift-hash]\n", "[swift-hash]\nswift_hash_path_suffix =\nswift_hash_path_prefix =\n",
                           "[other]\nswift_hash_path_suffix = x\n"}) {
    const std::string path = WriteTempConfig("swift.conf", text);
    absl::StatusOr<HashPathConfig> c = LoadHashPathConfig(path);
    EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument)) << text;
    EXPECT_THAT(std::string(c.status().message()),
                HasSubstr("[swift-hash]: both swift_hash_path_suffix and swift_hash_path_prefix are missing from " +
                          path));
  }
  EXPECT_THAT(LoadHashPathConfig("/nonexistent/swift.conf"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(LoadHashPathConfig(WriteTempConfig("swift.conf", "[swift-hash]\nswift_hash_path_suffix = 5%\n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dbrepl
