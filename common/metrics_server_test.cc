#include "common/metrics_server.h"

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
#include "prometheus/counter.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;

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

TEST(MetricsServerTest, ServesTheRegistryOverHttp) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::Counter& counter =
      prometheus::BuildCounter().Name("dbrepl_test_total").Help("A test counter.").Register(*registry).Add({});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> server, MetricsServer::Start("127.0.0.1:0", registry));
  ASSERT_GT(server->port(), 0);
  counter.Increment(3);  // updates after Start are served
  const std::string response = HttpGet(server->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("# HELP dbrepl_test_total A test counter.\n"));
  EXPECT_THAT(response, HasSubstr("dbrepl_test_total 3\n"));
}

TEST(MetricsServerTest, APortInUseIsUnavailable) {
  auto registry = std::make_shared<prometheus::Registry>();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> first, MetricsServer::Start("127.0.0.1:0", registry));
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start(absl::StrCat("127.0.0.1:", first->port()), registry);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(absl::StrCat("127.0.0.1:", first->port())));
}

}  // namespace
}  // namespace dbrepl
