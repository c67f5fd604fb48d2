#include "common/chexor.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;

// Values computed by Swift 2.30.1's swift.common.db.chexor: matching them
// means our rows hash as Swift's do.
TEST(ChexorTest, ReferenceVectors) {
  ASSERT_OK_AND_ASSIGN(std::string h1, Chexor(kEmptyDbHash, "o", "0000000001.00000"));
  EXPECT_EQ(h1, "74930d4241dd50160de5da0a94a90443");
  ASSERT_OK_AND_ASSIGN(std::string h2, Chexor(h1, "p", "0000000002.00000"));
  EXPECT_EQ(h2, "d74fb8eb63c968d07da0872122e9d4f2");
  ASSERT_OK_AND_ASSIGN(std::string h3, Chexor(h2, "o", "0000000001.00000"));
  EXPECT_EQ(h3, "a3dcb5a9221438c670455d2bb640d0b1");
  ASSERT_OK_AND_ASSIGN(std::string acct, Chexor("0", "c1", "0000000001.00000-0-0-0"));
  EXPECT_EQ(acct, "bd62d034af88897b23b1e4c135b8ecd5");
}

TEST(ChexorTest, IsOrderIndependentAndSelfInverse) {
  ASSERT_OK_AND_ASSIGN(std::string a, Chexor(kEmptyDbHash, "x", "1"));
  ASSERT_OK_AND_ASSIGN(std::string ab, Chexor(a, "y", "2"));
  ASSERT_OK_AND_ASSIGN(std::string b, Chexor(kEmptyDbHash, "y", "2"));
  ASSERT_OK_AND_ASSIGN(std::string ba, Chexor(b, "x", "1"));
  EXPECT_EQ(ab, ba);
  ASSERT_OK_AND_ASSIGN(std::string back, Chexor(a, "x", "1"));
  EXPECT_EQ(back, kEmptyDbHash);
}

TEST(ChexorTest, HashesUtf8Names) {
  // Swift 2.30.1: chexor('0'*32, 'été', '0000000001.00000').
  ASSERT_OK_AND_ASSIGN(std::string h, Chexor(kEmptyDbHash, "\xc3\xa9t\xc3\xa9", "0000000001.00000"));
  EXPECT_EQ(h, "c36c6b809f10ce4d38d43141555176cd");
}

TEST(ChexorTest, AcceptsPythonIntSpellings) {
  ASSERT_OK_AND_ASSIGN(std::string upper, Chexor("74930D4241DD50160DE5DA0A94A90443", "o", "0000000001.00000"));
  EXPECT_EQ(upper, kEmptyDbHash);
  ASSERT_OK_AND_ASSIGN(std::string prefixed, Chexor("0x0", "o", "0000000001.00000"));
  EXPECT_EQ(prefixed, "74930d4241dd50160de5da0a94a90443");
}

TEST(ChexorTest, RejectsBadHash) {
  EXPECT_THAT(Chexor("xyz", "o", "1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Chexor("", "o", "1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Chexor("1" + std::string(32, '0'), "o", "1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dbrepl
