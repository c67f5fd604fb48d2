// ListenerCheck: is this process still accepting connections on its own
// port? A process out of file descriptors can stop accepting for good while
// every thread looks fine, and a Kubernetes liveness probe through the same
// listener only fails once it is too late to say why. The check connects to
// the port every `period` (a TCP connect with a 2 s timeout, closed at once)
// and reports after `failures_to_report` misses in a row that the listener is
// down, and again once it answers.
//
//   ListenerCheck check("127.0.0.1", port, absl::Seconds(10), 3,
//                       [&](bool up) { server.SetHealth("liveness", up); });
//   check.Start();
//
// Thread-safe; Stop() (or destruction) joins.
#ifndef DBREPL_COMMON_SERVER_LISTENER_CHECK_H_
#define DBREPL_COMMON_SERVER_LISTENER_CHECK_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace dbrepl {

// True if a TCP connection to host:port is accepted within `timeout`.
bool CanConnect(const std::string& host, int port, absl::Duration timeout);

class ListenerCheck {
 public:
  ListenerCheck(std::string host, int port, absl::Duration period, int failures_to_report,
                std::function<void(bool up)> on_change)
      : host_(std::move(host)),
        port_(port),
        period_(period),
        failures_to_report_(failures_to_report),
        on_change_(std::move(on_change)) {}
  ~ListenerCheck() { Stop(); }

  void Start();
  void Stop();

 private:
  const std::string host_;
  const int port_;
  const absl::Duration period_;
  const int failures_to_report_;
  std::function<void(bool)> on_change_;
  absl::Notification stop_;
  std::thread thread_;
};

// Raises the soft limit of open files to the hard limit (a replicator holds
// a descriptor per open database, connection and rsync pipe). Returns the
// new soft limit.
int64_t RaiseOpenFileLimit();

}  // namespace dbrepl

#endif  // DBREPL_COMMON_SERVER_LISTENER_CHECK_H_
