#include "common/server/listener_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "glog/logging.h"

namespace dbrepl {

bool CanConnect(const std::string& host, int port, absl::Duration timeout) {
  bool v6 = host.find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage storage{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof(*a);
  }
  bool ok = false;
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&storage), len);
  if (rc == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1) {
      int err = 0;
      socklen_t elen = sizeof(err);
      ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0;
    }
  }
  close(fd);
  return ok;
}

void ListenerCheck::Start() {
  thread_ = std::thread([this] {
    int misses = 0;
    bool up = true;
    while (!stop_.WaitForNotificationWithTimeout(period_)) {
      bool answered = CanConnect(host_, port_, absl::Seconds(2));
      misses = answered ? 0 : misses + 1;
      bool now_up = misses < failures_to_report_;
      if (now_up != up) {
        up = now_up;
        if (up) {
          LOG(INFO) << "listener on " << host_ << ":" << port_ << " accepts connections again";
        } else {
          LOG(ERROR) << "listener on " << host_ << ":" << port_ << " has not accepted a connection " << misses
                     << " times in a row (out of file descriptors?); reporting not live";
        }
        on_change_(up);
      }
    }
  });
}

void ListenerCheck::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

int64_t RaiseOpenFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t wanted = rl.rlim_max;
    rl.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      LOG(WARNING) << "could not raise the open-file limit to " << wanted;
      getrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  return static_cast<int64_t>(rl.rlim_cur);
}

}  // namespace dbrepl
