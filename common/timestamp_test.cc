#include "common/timestamp.h"

#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;

Timestamp T(absl::string_view s) {
  auto t = Timestamp::Parse(s);
  EXPECT_TRUE(t.ok()) << s << ": " << t.status();
  return t.ok() ? *t : Timestamp();
}

// Vectors produced by Swift 2.30.1's Timestamp.
TEST(TimestampTest, FromSecondsMatchesSwift) {
  struct Case {
    double seconds;
    const char* normal;
    int64_t raw;
  } cases[] = {
      {1402464677.04188, "1402464677.04188", 140246467704188},
      {1, "0000000001.00000", 100000},
      {0, "0000000000.00000", 0},
      {1.000005, "0000000001.00001", 100000},
      {1700000000.123456, "1700000000.12346", 170000000012346},
      {9999999999.999994, "9999999999.99999", 999999999999999},
      {0.000015, "0000000000.00002", 2},
      // The normal form rounds the double; raw rounds seconds / 1e-5.
      {0.000025, "0000000000.00003", 2},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(Timestamp t, Timestamp::FromSeconds(c.seconds));
    EXPECT_EQ(t.Normal(), c.normal) << c.seconds;
    EXPECT_EQ(t.Internal(), c.normal) << c.seconds;
    EXPECT_EQ(t.raw(), c.raw) << c.seconds;
  }
}

TEST(TimestampTest, ParsesStringsWithOffsets) {
  Timestamp a = T("1402464677.04188_0000000000000001");
  EXPECT_EQ(a.Normal(), "1402464677.04188");
  EXPECT_EQ(a.Internal(), "1402464677.04188_0000000000000001");
  EXPECT_EQ(a.Short(), "1402464677.04188_1");
  EXPECT_EQ(a.offset(), 1u);

  Timestamp b = T("1.5_a");
  EXPECT_EQ(b.Internal(), "0000000001.50000_000000000000000a");
  EXPECT_EQ(b.Short(), "0000000001.50000_a");
  EXPECT_EQ(b.raw(), 150000);

  EXPECT_EQ(T("0").Internal(), "0000000000.00000");
  EXPECT_EQ(T("1402464677.04188_").Internal(), "1402464677.04188");
  EXPECT_EQ(T("  2.5 ").Internal(), "0000000002.50000");
  EXPECT_EQ(Timestamp::Zero().Internal(), "0000000000.00000");
}

TEST(TimestampTest, RejectsBadInput) {
  EXPECT_THAT(Timestamp::Parse(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("abc"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("-1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("10000000000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("1.5_1_2"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("1.5_xyz"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("1.5_10000000000000000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("nan"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Timestamp::Parse("inf"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(Timestamp::Parse("1.5_ffffffffffffffff"));
}

TEST(TimestampTest, OrdersLikeInternalStrings) {
  EXPECT_LT(T("1"), T("2"));
  EXPECT_LT(T("1.5"), T("1.5_a"));  // An offset sorts after the same time.
  EXPECT_LT(T("1.5_a"), T("1.50001"));
  EXPECT_LT(T("1.5_9"), T("1.5_a"));
  EXPECT_EQ(T("1.5"), T("0000000001.50000"));
  EXPECT_EQ(T("1.5"), T("1.5_0"));
  EXPECT_NE(T("1.5"), T("1.5_1"));
  EXPECT_GE(T("1.5"), T("1.5"));
  EXPECT_GT(T("10"), T("9.99999"));
}

TEST(TimestampTest, NowIsInRangeAndNormal) {
  Timestamp now = Timestamp::Now();
  EXPECT_GT(now, T("1600000000"));
  EXPECT_EQ(now.Internal().size(), 16u);
}

TEST(EncodeTimestampsTest, MatchesSwift) {
  Timestamp t1 = T("1700000000.00000");
  Timestamp t2 = T("1700000000.00010");
  Timestamp t3 = T("1700000000.00015");
  EXPECT_EQ(EncodeTimestamps(t1, t2, t3), "1700000000.00000+a+5");
  EXPECT_EQ(EncodeTimestamps(t1, t1, t1), "1700000000.00000");
  EXPECT_EQ(EncodeTimestamps(t2, t1, t3), "1700000000.00010-a+f");
  EXPECT_EQ(EncodeTimestamps(T("1.5_a"), T("1.5"), T("2")), "0000000001.50000_a+0+c350");
}

TEST(DecodeTimestampsTest, MatchesSwift) {
  ASSERT_OK_AND_ASSIGN(ObjectTimestamps a, DecodeTimestamps("1700000000.00000+a+5"));
  EXPECT_EQ(a.data.Internal(), "1700000000.00000");
  EXPECT_EQ(a.ctype.Internal(), "1700000000.00010");
  EXPECT_EQ(a.meta.Internal(), "1700000000.00015");

  ASSERT_OK_AND_ASSIGN(ObjectTimestamps b, DecodeTimestamps("1700000000.00000-a+5"));
  EXPECT_EQ(b.ctype.Internal(), "1699999999.99990");
  EXPECT_EQ(b.meta.Internal(), "1699999999.99995");

  // A zero delta keeps t1's offset.
  ASSERT_OK_AND_ASSIGN(ObjectTimestamps c, DecodeTimestamps("0000000001.00000_0000000000000002+0+3"));
  EXPECT_EQ(c.ctype.Internal(), "0000000001.00000_0000000000000002");
  EXPECT_EQ(c.meta.Internal(), "0000000001.00003");

  ASSERT_OK_AND_ASSIGN(ObjectTimestamps d, DecodeTimestamps("1.5"));
  EXPECT_EQ(d.data.Internal(), "0000000001.50000");
  EXPECT_EQ(d.meta.Internal(), "0000000001.50000");

  EXPECT_THAT(DecodeTimestamps("1.5+zz"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeTimestamps("+1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DecodeTimestampsTest, RoundTrips) {
  for (const char* s : {"1700000000.00000+a+5", "1700000000.00010-a+f", "0000000001.00000",
                        "0000000001.50000_a+0+c350"}) {
    ASSERT_OK_AND_ASSIGN(ObjectTimestamps t, DecodeTimestamps(s));
    EXPECT_EQ(EncodeTimestamps(t.data, t.ctype, t.meta), s);
  }
}

}  // namespace
}  // namespace dbrepl
