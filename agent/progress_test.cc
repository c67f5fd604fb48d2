#include "agent/progress.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

TEST(ProgressTest, ExampleLine) {
  // 41.2 dbs/s over 1234 DBs; 3766 left -> 91.4 s.
  const double elapsed = 1234 / 41.2;
  EXPECT_EQ(FormatProgressLine("container", 1234, 5000, true, elapsed),
            "container replication: 1234/5000 dbs (24.7%), 41.2 dbs/s, ETA 1m31s");
  EXPECT_EQ(FormatProgressLine("container", 1234, 5000, false, elapsed),
            "container replication: 1234/~5000 dbs (24.7%), 41.2 dbs/s, ETA ~1m31s");
  EXPECT_EQ(FormatProgressLine("account", 1234, -1, false, elapsed), "account replication: 1234 dbs, 41.2 dbs/s");
}

TEST(ProgressTest, EtaMath) {
  EXPECT_DOUBLE_EQ(*EtaSeconds(100, 1000, 10), 90);  // 10/s, 900 left
  EXPECT_DOUBLE_EQ(*EtaSeconds(1, 4, 2), 6);        // 0.5/s, 3 left
  EXPECT_EQ(*EtaSeconds(1000, 1000, 10), 0);
  EXPECT_EQ(*EtaSeconds(1200, 1000, 10), 0);
  EXPECT_FALSE(EtaSeconds(0, 1000, 10).has_value());   // no rate yet
  EXPECT_FALSE(EtaSeconds(10, 1000, 0).has_value());   // no time yet
  EXPECT_FALSE(EtaSeconds(10, -1, 10).has_value());    // total unknown
  EXPECT_DOUBLE_EQ(ProgressRate(50, 4), 12.5);
  EXPECT_EQ(ProgressRate(50, 0), 0);
  EXPECT_EQ(ProgressRate(50, -1), 0);
}

TEST(ProgressTest, Percent) {
  EXPECT_DOUBLE_EQ(*PercentDone(1, 4), 25);
  EXPECT_DOUBLE_EQ(*PercentDone(5, 4), 100);
  EXPECT_DOUBLE_EQ(*PercentDone(0, 0), 100);
  EXPECT_FALSE(PercentDone(3, -1).has_value());
}

TEST(ProgressTest, FormatEta) {
  EXPECT_EQ(FormatEta(0), "0s");
  EXPECT_EQ(FormatEta(0.4), "0s");
  EXPECT_EQ(FormatEta(44.6), "45s");
  EXPECT_EQ(FormatEta(59.4), "59s");
  EXPECT_EQ(FormatEta(59.6), "1m00s");
  EXPECT_EQ(FormatEta(91.4), "1m31s");
  EXPECT_EQ(FormatEta(3599), "59m59s");
  EXPECT_EQ(FormatEta(3600), "1h00m");
  EXPECT_EQ(FormatEta(2 * 3600 + 3 * 60 + 59), "2h03m");
  EXPECT_EQ(FormatEta(86400 * 3 + 4 * 3600 + 5), "3d04h");
  EXPECT_EQ(FormatEta(-1), "?");
  EXPECT_EQ(FormatEta(std::numeric_limits<double>::infinity()), "?");
  EXPECT_EQ(FormatEta(std::nan("")), "?");
}

TEST(ProgressTest, UnknownEtaAndReachedEstimate) {
  EXPECT_EQ(FormatProgressLine("container", 0, 5000, true, 0),
            "container replication: 0/5000 dbs (0.0%), 0.0 dbs/s, ETA ?");
  // Estimate already exceeded: percent capped, ETA unknown.
  EXPECT_EQ(FormatProgressLine("container", 6000, 5000, false, 60),
            "container replication: 6000/~5000 dbs (100.0%), 100.0 dbs/s, ETA ?");
  // Exact total reached: done.
  EXPECT_EQ(FormatProgressLine("container", 5000, 5000, true, 50),
            "container replication: 5000/5000 dbs (100.0%), 100.0 dbs/s, ETA 0s");
}

TEST(ProgressTest, ReporterTracksDoneTotalAndElapsed) {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  ProgressReporter p(DbType::kContainer, [&now] { return now; });
  p.Start(5000, false);
  now += absl::Seconds(10);
  p.AddDone(400);
  p.AddDone();
  ProgressSnapshot s = p.Snapshot();
  EXPECT_EQ(s.done, 401);
  EXPECT_EQ(s.total, 5000);
  EXPECT_FALSE(s.total_final);
  EXPECT_DOUBLE_EQ(s.elapsed_seconds, 10);
  EXPECT_DOUBLE_EQ(s.rate, 40.1);
  ASSERT_TRUE(s.eta_seconds.has_value());
  EXPECT_DOUBLE_EQ(*s.eta_seconds, 4599 / 40.1);
  EXPECT_DOUBLE_EQ(*s.percent, 8.02);
  EXPECT_EQ(p.Line(), "container replication: 401/~5000 dbs (8.0%), 40.1 dbs/s, ETA ~1m55s");

  p.SetTotal(4000, true);
  EXPECT_EQ(p.Line(), "container replication: 401/4000 dbs (10.0%), 40.1 dbs/s, ETA 1m30s");

  // A new pass starts from zero at the new time.
  now += absl::Seconds(100);
  p.Start();
  now += absl::Seconds(2);
  p.AddDone(3);
  EXPECT_EQ(p.Line(), "container replication: 3 dbs, 1.5 dbs/s");
}

TEST(ProgressTest, ReporterIsThreadSafe) {
  absl::Time now = absl::FromUnixSeconds(0);
  ProgressReporter p(DbType::kAccount, [&now] { return now; });
  p.Start(40000, true);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p] {
      for (int i = 0; i < 10000; ++i) p.AddDone();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(p.Snapshot().done, 40000);
}

}  // namespace
}  // namespace dbrepl::agent
