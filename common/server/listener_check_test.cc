#include "common/server/listener_check.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

// A listening socket on a free loopback port.
int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

TEST(ListenerCheckTest, ReportsAListenerThatStoppedAcceptingAndItsReturn) {
  int port = 0;
  int fd = Listen(&port);
  EXPECT_TRUE(CanConnect("127.0.0.1", port, absl::Seconds(2)));
  absl::Mutex mu;
  std::vector<bool> changes;
  ListenerCheck check("127.0.0.1", port, absl::Milliseconds(20), 2, [&](bool up) {
    absl::MutexLock lock(&mu);
    changes.push_back(up);
  });
  check.Start();
  close(fd);  // The port refuses from now on.
  {
    absl::MutexLock lock(&mu);
    auto reported = [&] { return !changes.empty(); };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&reported), absl::Seconds(30)));
    EXPECT_EQ(changes.front(), false);
  }
  check.Stop();
}

TEST(ListenerCheckTest, RaisesTheOpenFileLimitToTheHardLimit) { EXPECT_GT(RaiseOpenFileLimit(), 0); }

}  // namespace
}  // namespace dbrepl
