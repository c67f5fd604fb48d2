#include "common/python_json.h"

#include <cmath>
#include <limits>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;

// Expected values in this file are Python 3's json.dumps output.

TEST(PythonJsonStringTest, EscapesLikeEnsureAscii) {
  EXPECT_EQ(*PythonJsonString("sdb1"), "\"sdb1\"");
  EXPECT_EQ(*PythonJsonString(""), "\"\"");
  EXPECT_EQ(*PythonJsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(*PythonJsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(*PythonJsonString(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(*PythonJsonString("\xc3\xa9"), "\"\\u00e9\"");               // é
  EXPECT_EQ(*PythonJsonString("\xe2\x82\xac"), "\"\\u20ac\"");           // €
  EXPECT_EQ(*PythonJsonString("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");  // 😀
}

TEST(PythonJsonStringTest, InvalidUtf8IsAnError) {
  EXPECT_THAT(PythonJsonString("\xff"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PythonJsonString("ok\xc3"), StatusIs(absl::StatusCode::kInvalidArgument));         // truncated
  EXPECT_THAT(PythonJsonString("\xc3\x28"), StatusIs(absl::StatusCode::kInvalidArgument));       // bad continuation
  EXPECT_THAT(PythonJsonString("\xed\xa0\x80"), StatusIs(absl::StatusCode::kInvalidArgument));   // surrogate
  EXPECT_THAT(PythonJsonString("\xc0\x80"), StatusIs(absl::StatusCode::kInvalidArgument));       // overlong
  EXPECT_THAT(PythonJsonString("\xf4\x90\x80\x80"), StatusIs(absl::StatusCode::kInvalidArgument));  // > U+10FFFF
  EXPECT_EQ(PythonJsonString("ab\xff").status().message(), "string is not valid UTF-8 at byte 2");
}

TEST(PythonJsonDumpsTest, SortedKeysForJson) {
  nlohmann::json j = nlohmann::json::parse(R"({"b": [1, 2.5, "x", null, true, {}, []], "a": {"z": -1, "y": 1e20}})");
  j["u"] = "sd\xc3\xa9";
  j["q"] = "a\"b\\c\n";
  j["w"] = 100.0;  // a float stays a float
  j["n"] = uint64_t{18446744073709551615u};
  EXPECT_EQ(*PythonJsonDumps(j),
            R"({"a": {"y": 1e+20, "z": -1}, "b": [1, 2.5, "x", null, true, {}, []], "n": 18446744073709551615, )"
            R"("q": "a\"b\\c\n", "u": "sd\u00e9", "w": 100.0})");
  EXPECT_EQ(*PythonJsonDumps(nlohmann::json(std::nan(""))), "NaN");
  EXPECT_EQ(*PythonJsonDumps(nlohmann::json(-std::numeric_limits<double>::infinity())), "-Infinity");
}

TEST(PythonJsonDumpsTest, InsertionOrderForOrderedJson) {
  // json.dumps({'X-Container-Meta-Z': ['1', '1.0'], 'A': ['', '2.0']})
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["X-Container-Meta-Z"] = {"1", "1.0"};
  j["A"] = {"", "2.0"};
  EXPECT_EQ(*PythonJsonDumps(j), R"({"X-Container-Meta-Z": ["1", "1.0"], "A": ["", "2.0"]})");
}

TEST(PythonJsonDumpsTest, InvalidStringsAnywhereAreErrors) {
  EXPECT_THAT(PythonJsonDumps(nlohmann::json("\xff")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PythonJsonDumps(nlohmann::json{{"k", {"ok", "\xc3"}}}), StatusIs(absl::StatusCode::kInvalidArgument));
  nlohmann::json bad_key = nlohmann::json::object();
  bad_key["\xff"] = 1;
  EXPECT_THAT(PythonJsonDumps(bad_key), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PythonJsonDumps(nlohmann::json::binary({1, 2})), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dbrepl
