#include "agent/agent_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  EXPECT_EQ(AgentMetrics::Results().size(), 10u);
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

// Reads an HTTP response until the server closes the connection.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

TEST(AgentMetricsTest, ServesMetricsOverHttp) {
  AgentMetrics m(DbType::kContainer);
  EXPECT_EQ(m.port(), 0);
  ASSERT_OK(m.Serve("127.0.0.1:0"));
  ASSERT_GT(m.port(), 0);
  EXPECT_THAT(m.Serve("127.0.0.1:0"), StatusIs(absl::StatusCode::kFailedPrecondition));
  m.CountAttempt();
  m.Count("rsync", 4);
  const std::string response = HttpGet(m.port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("dbrepl_attempts_total{type=\"container\"} 1\n"));
  EXPECT_THAT(response, HasSubstr("dbrepl_results_total{result=\"rsync\",type=\"container\"} 4\n"));
}

TEST(AgentMetricsTest, ServeOnAPortInUseFails) {
  AgentMetrics first(DbType::kContainer);
  ASSERT_OK(first.Serve("127.0.0.1:0"));
  AgentMetrics second(DbType::kContainer);
  EXPECT_THAT(second.Serve(absl::StrCat("127.0.0.1:", first.port())), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace dbrepl::agent
