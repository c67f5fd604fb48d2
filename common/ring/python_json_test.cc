#include "common/ring/python_json.h"

#include <cmath>
#include <limits>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;

TEST(PyJsonFloatTest, MatchesPythonRepr) {
  // Expected values are Python 3's repr(float(x)).
  EXPECT_EQ(PyJsonFloat(100), "100.0");
  EXPECT_EQ(PyJsonFloat(0), "0.0");
  EXPECT_EQ(PyJsonFloat(-0.0), "-0.0");
  EXPECT_EQ(PyJsonFloat(1.5), "1.5");
  EXPECT_EQ(PyJsonFloat(0.1), "0.1");
  EXPECT_EQ(PyJsonFloat(-2.25), "-2.25");
  EXPECT_EQ(PyJsonFloat(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(PyJsonFloat(0.0001), "0.0001");
  EXPECT_EQ(PyJsonFloat(0.00001), "1e-05");
  EXPECT_EQ(PyJsonFloat(1.25e-7), "1.25e-07");
  EXPECT_EQ(PyJsonFloat(1e15), "1000000000000000.0");
  EXPECT_EQ(PyJsonFloat(1e16), "1e+16");
  EXPECT_EQ(PyJsonFloat(1.5e16), "1.5e+16");
  EXPECT_EQ(PyJsonFloat(123456789.125), "123456789.125");
  EXPECT_EQ(PyJsonFloat(1e300), "1e+300");
  EXPECT_EQ(PyJsonFloat(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(PyJsonFloat(std::nan("")), "NaN");
}

TEST(PyJsonStringTest, EscapesLikeEnsureAscii) {
  EXPECT_EQ(*PyJsonString("sdb1"), "\"sdb1\"");
  EXPECT_EQ(*PyJsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(*PyJsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(*PyJsonString(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(*PyJsonString("\xc3\xa9"), "\"\\u00e9\"");           // é
  EXPECT_EQ(*PyJsonString("\xe2\x82\xac"), "\"\\u20ac\"");       // €
  EXPECT_EQ(*PyJsonString("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");  // 😀
  EXPECT_THAT(PyJsonString("\xff"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PyJsonString("\xc3"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PyJsonString("\xed\xa0\x80"), StatusIs(absl::StatusCode::kInvalidArgument));  // surrogate
  EXPECT_THAT(PyJsonString("\xc0\x80"), StatusIs(absl::StatusCode::kInvalidArgument));      // overlong
}

}  // namespace
}  // namespace dbrepl
