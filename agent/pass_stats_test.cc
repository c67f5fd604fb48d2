#include "agent/pass_stats.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::testing::ElementsAre;

TEST(PassStatsTest, SummaryLinesMatchSwift) {
  // Swift's test_stats values.
  PassStats s;
  s.attempted = 1;
  s.remote_merge = 2;
  s.rsync = 3;
  s.diff_capped = 4;
  s.diff = 5;
  s.no_change = 6;
  s.empty = 7;
  s.hashmatch = 8;
  s.success = 9;
  s.ts_repl = 10;
  s.failure = 11;
  s.remove = 12;
  s.deferred = 13;
  EXPECT_THAT(SummaryLines(s, 1.0),
              ElementsAre("Attempted to replicate 1 dbs in 1.00000 seconds (1.00000/s)", "Removed 12 dbs",
                          "9 successes, 11 failures",
                          "diff:5 diff_capped:4 empty:7 hashmatch:8 no_change:6 remote_merge:2 rsync:3 ts_repl:10"));
}

TEST(PassStatsTest, RateUsesSwiftsEpsilon) {
  PassStats s;
  s.attempted = 7;
  // Values printed by Python's own formatting of the same expression.
  EXPECT_EQ(SummaryLines(s, 0.1234567)[0], "Attempted to replicate 7 dbs in 0.12346 seconds (56.70000/s)");
  s.attempted = 0;
  EXPECT_EQ(SummaryLines(s, 0.0)[0], "Attempted to replicate 0 dbs in 0.00000 seconds (0.00000/s)");
}

TEST(PassStatsTest, CollectorCountsAndResets) {
  StatsCollector c;
  c.Reset(1700000000.5);
  c.Add(StatField::kAttempted);
  c.Add(StatField::kAttempted, 2);
  c.Add(StatField::kNoChange, 4);
  c.Add(StatField::kQuarantined);
  c.Add(StatField::kSkippedDevices, 2);
  c.AddFailure("10.0.0.2", "sdb");
  c.AddFailure("10.0.0.2", "sdb");
  c.AddFailure("10.0.0.3", "sdc");
  PassStats s = c.Snapshot();
  EXPECT_EQ(s.attempted, 3);
  EXPECT_EQ(s.no_change, 4);
  EXPECT_EQ(s.quarantined, 1);
  EXPECT_EQ(s.skipped_devices, 2);
  EXPECT_EQ(s.failure, 3);
  EXPECT_EQ(s.failure_nodes["10.0.0.2"]["sdb"], 2);
  EXPECT_EQ(s.failure_nodes["10.0.0.3"]["sdc"], 1);
  EXPECT_EQ(s.start, 1700000000.5);

  c.Reset(1700000100.0);
  s = c.Snapshot();
  EXPECT_EQ(s.attempted, 0);
  EXPECT_EQ(s.failure, 0);
  EXPECT_TRUE(s.failure_nodes.empty());
  EXPECT_EQ(s.start, 1700000100.0);
}

TEST(PassStatsTest, EveryFieldHasItsOwnCounter) {
  const std::vector<StatField> fields = {
      StatField::kAttempted, StatField::kSuccess,     StatField::kFailure,     StatField::kNoChange,
      StatField::kHashmatch, StatField::kRsync,       StatField::kDiff,        StatField::kDiffCapped,
      StatField::kRemoteMerge, StatField::kRemove,    StatField::kEmpty,       StatField::kTsRepl,
      StatField::kDeferred,  StatField::kQuarantined, StatField::kSkippedDevices, StatField::kSkippedSharded};
  StatsCollector c;
  for (size_t i = 0; i < fields.size(); ++i) c.Add(fields[i], static_cast<int64_t>(i + 1));
  PassStats s = c.Snapshot();
  const std::vector<int64_t> got = {s.attempted, s.success, s.failure,     s.no_change, s.hashmatch,
                                    s.rsync,     s.diff,    s.diff_capped, s.remote_merge, s.remove,
                                    s.empty,     s.ts_repl, s.deferred,    s.quarantined, s.skipped_devices,
                                    s.skipped_sharded};
  for (size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(got[i], static_cast<int64_t>(i + 1)) << StatFieldName(fields[i]);
  }
  EXPECT_EQ(StatFieldName(StatField::kDiffCapped), "diff_capped");
  EXPECT_EQ(StatFieldName(StatField::kRemoteMerge), "remote_merge");
  EXPECT_EQ(StatFieldName(StatField::kTsRepl), "ts_repl");
  EXPECT_EQ(StatFieldName(StatField::kSkippedSharded), "skipped_sharded");
}

TEST(PassStatsTest, CollectorIsThreadSafe) {
  StatsCollector c;
  c.Reset(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) {
        c.Add(StatField::kAttempted);
        c.AddFailure("10.0.0.1", "sda");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  PassStats s = c.Snapshot();
  EXPECT_EQ(s.attempted, 40000);
  EXPECT_EQ(s.failure, 40000);
  EXPECT_EQ(s.failure_nodes["10.0.0.1"]["sda"], 40000);
}

TEST(PassStatsTest, ReplicationStatsJsonHasSwiftsKeys) {
  PassStats s;
  s.attempted = 2;
  s.failure = 1;
  s.failure_nodes["10.0.0.2"]["sdb"] = 1;
  s.no_change = 2;
  s.success = 4;
  s.start = 1700000000.5;
  s.quarantined = 3;  // not a Swift key
  nlohmann::json j = ReplicationStatsJson(s);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_THAT(keys, ElementsAre("attempted", "deferred", "diff", "diff_capped", "empty", "failure", "failure_nodes",
                                "hashmatch", "no_change", "remote_merge", "remove", "rsync", "start", "success",
                                "ts_repl"));
  EXPECT_EQ(j["attempted"], 2);
  EXPECT_EQ(j["failure_nodes"]["10.0.0.2"]["sdb"], 1);
  EXPECT_TRUE(j["start"].is_number_float());
  EXPECT_EQ(j["start"].get<double>(), 1700000000.5);
  EXPECT_TRUE(j["success"].is_number_integer());

  PassStats none;
  none.start = 1700000000.0;
  nlohmann::json empty = ReplicationStatsJson(none);
  EXPECT_TRUE(empty["failure_nodes"].is_object());
  EXPECT_TRUE(empty["failure_nodes"].empty());
  EXPECT_TRUE(empty["start"].is_number_float());
}

}  // namespace
}  // namespace dbrepl::agent
