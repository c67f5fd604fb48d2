#include "common/config/config_values.h"

#include <cmath>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ConfigTrueValueTest, SwiftsTrueValues) {
  for (const char* v : {"true", "TRUE", "1", "yes", "Yes", "on", "t", "T", "y"}) EXPECT_TRUE(ConfigTrueValue(v)) << v;
  for (const char* v : {"false", "0", "no", "off", "", "flase", "2", " true", "enabled"}) {
    EXPECT_FALSE(ConfigTrueValue(v)) << v;
  }
  EXPECT_TRUE(IsRecognisedBoolean("Off"));
  EXPECT_TRUE(IsRecognisedBoolean(""));
  EXPECT_FALSE(IsRecognisedBoolean("flase"));
}

// Expected values are Python 3's int(s) and float(s).
TEST(ParsePythonIntTest, AcceptsWhatIntAccepts) {
  EXPECT_EQ(*ParsePythonInt(" 8 "), 8);
  EXPECT_EQ(*ParsePythonInt("+8"), 8);
  EXPECT_EQ(*ParsePythonInt("08"), 8);
  EXPECT_EQ(*ParsePythonInt("-0"), 0);
  EXPECT_EQ(*ParsePythonInt("1_000"), 1000);
  EXPECT_EQ(*ParsePythonInt("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*ParsePythonInt("9223372036854775807"), INT64_MAX);
  for (const char* v : {"", " ", "1__0", "_1", "1_", "0x10", "1.0", "1e3", "--1", "+", "8 8", "9223372036854775808",
                        "99999999999999999999999"}) {
    EXPECT_THAT(ParsePythonInt(v), StatusIs(absl::StatusCode::kInvalidArgument)) << v;
  }
}

TEST(ParsePythonFloatTest, AcceptsWhatFloatAccepts) {
  EXPECT_EQ(*ParsePythonFloat(" 1.5 "), 1.5);
  EXPECT_EQ(*ParsePythonFloat("1e3"), 1000);
  EXPECT_EQ(*ParsePythonFloat("1E+2"), 100);
  EXPECT_EQ(*ParsePythonFloat(".5"), 0.5);
  EXPECT_EQ(*ParsePythonFloat("5."), 5);
  EXPECT_EQ(*ParsePythonFloat("+.5e-3"), 0.0005);
  EXPECT_EQ(*ParsePythonFloat("1_0.5"), 10.5);
  EXPECT_EQ(*ParsePythonFloat("1e1_0"), 1e10);
  EXPECT_EQ(*ParsePythonFloat("30"), 30);
  EXPECT_TRUE(std::isinf(*ParsePythonFloat("inf")));
  EXPECT_EQ(*ParsePythonFloat("-Infinity"), -INFINITY);
  EXPECT_TRUE(std::isnan(*ParsePythonFloat("nan")));
  for (const char* v : {"", "0x1p3", "1e", "1_", "1._5", "e5", ".", "infinit", "1,5", "1.5.2", "1 5"}) {
    EXPECT_THAT(ParsePythonFloat(v), StatusIs(absl::StatusCode::kInvalidArgument)) << v;
  }
}

TEST(ConfigAutoIntValueTest, AutoOrInteger) {
  EXPECT_EQ(*ConfigAutoIntValue("auto", 0), 0);
  EXPECT_EQ(*ConfigAutoIntValue("AUTO", 7), 7);
  EXPECT_EQ(*ConfigAutoIntValue("2", 0), 2);
  EXPECT_THAT(ConfigAutoIntValue("two", 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(OptionReaderTest, ErrorsNameOptionValueSectionAndFile) {
  ConfigSection s;
  s.name = "container-replicator";
  s.source = "/etc/swift/c.conf";
  s.values = {{"concurrency", "x"}, {"per_diff", "0"}, {"node_timeout", "nan"}, {"flag", "flase"},
              {"ok", "Yes"}, {"from_flag", "7"}};
  s.command_line_keys = {"from_flag"};
  OptionReader in(s);
  absl::StatusOr<int64_t> c = in.Int("concurrency", 8, 1, 100);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(c.status().message(),
            "invalid concurrency = 'x' in [container-replicator] of /etc/swift/c.conf: 'x' is not an integer");
  EXPECT_THAT(std::string(in.Int("per_diff", 1000, 1, 100).status().message()), HasSubstr("between 1 and 100"));
  EXPECT_THAT(in.Float("node_timeout", 10, 0, 100), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*in.Int("absent", 42, 0, 100), 42);
  EXPECT_EQ(*in.Float("absent", 0.5, 0, 1), 0.5);
  EXPECT_THAT(std::string(in.Int("from_flag", 0, 0, 5).status().message()), HasSubstr("invalid --from_flag='7'"));
  std::vector<std::string> warnings;
  EXPECT_FALSE(in.Bool("flag", true, &warnings));
  EXPECT_TRUE(in.Bool("ok", false, &warnings));
  EXPECT_TRUE(in.Bool("absent", true, &warnings));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("flag = 'flase'"));
}

}  // namespace
}  // namespace dbrepl
