#include "agent/rate_limiter.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A clock that only moves when the limiter sleeps or the test advances it.
struct FakeTime {
  absl::Time now = absl::FromUnixSeconds(1000);
  std::vector<double> sleeps;  // seconds
  int clock_calls = 0;

  RateLimiter Make(double per_second, absl::Duration buffer = absl::Seconds(5)) {
    return RateLimiter(
        per_second, buffer,
        [this] {
          ++clock_calls;
          return now;
        },
        [this](absl::Duration d) {
          sleeps.push_back(absl::ToDoubleSeconds(d));
          now += d;
        });
  }
};

TEST(RateLimiterTest, SpacesCallsAtTheRate) {
  FakeTime t;
  RateLimiter limiter = t.Make(2);
  for (int i = 0; i < 5; ++i) limiter.Wait();
  EXPECT_THAT(t.sleeps, ElementsAre(0.5, 0.5, 0.5, 0.5));
  EXPECT_EQ(t.now, absl::FromUnixSeconds(1002));
}

TEST(RateLimiterTest, FractionalRate) {
  FakeTime t;
  RateLimiter limiter = t.Make(0.25);
  limiter.Wait();
  limiter.Wait();
  EXPECT_THAT(t.sleeps, ElementsAre(4.0));
}

TEST(RateLimiterTest, CatchesUpAfterAStallShorterThanTheBuffer) {
  FakeTime t;
  RateLimiter limiter = t.Make(1);
  limiter.Wait();  // slot 1000, next 1001
  t.now += absl::Seconds(3);
  // Slots 1001..1003 are all due at 1003: three calls pass at once.
  for (int i = 0; i < 3; ++i) limiter.Wait();
  EXPECT_THAT(t.sleeps, IsEmpty());
  limiter.Wait();  // slot 1004
  EXPECT_THAT(t.sleeps, ElementsAre(1.0));
}

TEST(RateLimiterTest, LosesTheBurstAfterIdlingLongerThanTheBuffer) {
  FakeTime t;
  RateLimiter limiter = t.Make(1, absl::Seconds(5));
  limiter.Wait();  // next slot 1001
  t.now += absl::Seconds(9);  // 1009 - 1001 = 8 > 5: reset to now
  limiter.Wait();
  EXPECT_THAT(t.sleeps, IsEmpty());
  limiter.Wait();
  EXPECT_THAT(t.sleeps, ElementsAre(1.0));
}

TEST(RateLimiterTest, BufferBoundaryIsStrict) {
  FakeTime t;
  RateLimiter limiter = t.Make(1, absl::Seconds(5));
  limiter.Wait();               // next slot 1001
  t.now += absl::Seconds(6);    // exactly 5 s past the slot: no reset
  for (int i = 0; i < 6; ++i) limiter.Wait();  // slots 1001..1006 all due
  EXPECT_THAT(t.sleeps, IsEmpty());
  limiter.Wait();
  EXPECT_THAT(t.sleeps, ElementsAre(1.0));
}

TEST(RateLimiterTest, DelayDoesNotReserve) {
  FakeTime t;
  RateLimiter limiter = t.Make(4);
  EXPECT_EQ(limiter.Delay(), absl::ZeroDuration());
  limiter.Wait();
  EXPECT_EQ(limiter.Delay(), absl::Milliseconds(250));
  EXPECT_EQ(limiter.Delay(), absl::Milliseconds(250));
  limiter.Wait();
  EXPECT_THAT(t.sleeps, ElementsAre(0.25));
  EXPECT_EQ(limiter.Delay(), absl::Milliseconds(250));
}

TEST(RateLimiterTest, NonPositiveRateIsUnlimited) {
  for (double rate : {0.0, -3.0}) {
    FakeTime t;
    RateLimiter limiter = t.Make(rate);
    EXPECT_TRUE(limiter.unlimited());
    for (int i = 0; i < 100; ++i) limiter.Wait();
    EXPECT_THAT(t.sleeps, IsEmpty());
    EXPECT_EQ(t.clock_calls, 0);
    EXPECT_EQ(limiter.Delay(), absl::ZeroDuration());
  }
}

TEST(RateLimiterTest, RealClockUnlimitedDoesNotBlock) {
  RateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) limiter.Wait();
  EXPECT_TRUE(limiter.unlimited());
  RateLimiter limited(1e9);  // 1 ns apart: never a measurable wait
  EXPECT_FALSE(limited.unlimited());
  limited.Wait();
}

}  // namespace
}  // namespace dbrepl::agent
