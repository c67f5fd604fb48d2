#include "agent/agent_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(AgentMetricsTest, CountersHaveSwiftsNamesAndLabels) {
  AgentMetrics m(DbType::kContainer);
  m.CountAttempt();
  m.CountAttempt();
  m.Count("success", 3);
  m.Count("no_change");
  m.Count("diff_capped");
  m.CountQuarantined();
  m.AddRowsSent(1500);
  const std::string text = m.Scrape();
  EXPECT_THAT(text, HasSubstr("# TYPE dbrepl_attempts_total counter"));
  EXPECT_THAT(text, HasSubstr("dbrepl_attempts_total{type=\"container\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_results_total{result=\"success\",type=\"container\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_results_total{result=\"no_change\",type=\"container\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_results_total{result=\"diff_capped\",type=\"container\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_quarantined_total{type=\"container\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_rows_sent_total{type=\"container\"} 1500\n"));
  // Every result exists from the start, at zero.
  for (const std::string& result : AgentMetrics::Results()) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("dbrepl_results_total{result=\"", result, "\",type=\"container\"}")));
  }
  EXPECT_THAT(text, HasSubstr("dbrepl_results_total{result=\"remove\",type=\"container\"} 0\n"));
  EXPECT_EQ(AgentMetrics::Results().size(), 11u);  // Swift's ten and dbrepl's skipped_sharded.
  EXPECT_THAT(text, HasSubstr("dbrepl_results_total{result=\"skipped_sharded\",type=\"container\"} 0\n"));
}

TEST(AgentMetricsTest, UnknownResultIsIgnored) {
  AgentMetrics m(DbType::kAccount);
  m.Count("bogus");
  const std::string text = m.Scrape();
  EXPECT_THAT(text, Not(HasSubstr("bogus")));
  EXPECT_THAT(text, HasSubstr("dbrepl_attempts_total{type=\"account\"} 0\n"));
}

TEST(AgentMetricsTest, GaugesForPassAndProgress) {
  AgentMetrics m(DbType::kAccount);
  m.SetProgress(1234, 5000);
  m.PassFinished(42.5, 1700000000);
  m.SetProgress(10, 20);  // a later pass overwrites
  const std::string text = m.Scrape();
  EXPECT_THAT(text, HasSubstr("# TYPE dbrepl_pass_duration_seconds gauge"));
  EXPECT_THAT(text, HasSubstr("dbrepl_pass_duration_seconds{type=\"account\"} 42.5\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_last_pass_timestamp_seconds{type=\"account\"} 1700000000\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_databases_done{type=\"account\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("dbrepl_databases_total{type=\"account\"} 20\n"));
}

// HTTP serving itself is MetricsServer's (common/metrics_server_test.cc).
TEST(AgentMetricsTest, ServeStartsOnceAndReportsItsPort) {
  AgentMetrics m(DbType::kContainer);
  EXPECT_EQ(m.port(), 0);
  ASSERT_OK(m.Serve("127.0.0.1:0"));
  EXPECT_GT(m.port(), 0);
  EXPECT_THAT(m.Serve("127.0.0.1:0"), StatusIs(absl::StatusCode::kFailedPrecondition));
  AgentMetrics second(DbType::kContainer);
  EXPECT_THAT(second.Serve(absl::StrCat("127.0.0.1:", m.port())), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace dbrepl::agent
