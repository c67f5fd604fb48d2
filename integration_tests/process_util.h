// Helpers for tests that run dbrepl's binaries as real processes: start a
// child with arguments and captured logs, pick free loopback ports, wait for
// exit with a deadline (pidfd + poll: no sleeping), and reach the child's
// health and reflection services.
//
// Not thread-safe; one Subprocess per child, owned by the test.
#ifndef DBREPL_INTEGRATION_TESTS_PROCESS_UTIL_H_
#define DBREPL_INTEGRATION_TESTS_PROCESS_UTIL_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace dbrepl::testing {

class Subprocess {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_file`.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                           const std::string& log_file);
  // Kills the child (SIGKILL) if it still runs.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  absl::Status Signal(int sig);
  // Waits for the child to exit; returns its wait status (as waitpid), or
  // DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // The child's log so far (for failure messages).
  std::string Log() const;

 private:
  Subprocess(pid_t pid, int pidfd, std::string log_file) : pid_(pid), pidfd_(pidfd), log_file_(log_file) {}
  pid_t pid_;
  int pidfd_;
  std::string log_file_;
  bool reaped_ = false;
};

// A TCP port that was free on `ip` a moment ago (bind to port 0, read it,
// close). Another process could take it in between; on loopback in a test
// sandbox that is vanishingly rare.
absl::StatusOr<int> PickFreePort(const std::string& ip = "127.0.0.1");

// Calls grpc.health.v1.Health/Check for `service`, waiting up to `timeout`
// for the server to come up (wait_for_ready: no polling). Returns the
// serving status name ("SERVING", "NOT_SERVING", ...).
absl::StatusOr<std::string> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout);

// Follows grpc.health.v1.Health/Watch for `service` until it is SERVING
// (OK) or `timeout` passes (DEADLINE_EXCEEDED with the last status seen): a
// real wait on the server's own notification, not polling.
absl::Status WaitForServing(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                            absl::Duration timeout);

// Lists services through server reflection (v1alpha), as grpcurl/buf curl do.
absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout);

// A plaintext channel to `address` that retries connecting quickly (100 ms
// initial backoff), for talking to a process that is still starting.
std::shared_ptr<grpc::Channel> TestChannel(const std::string& address);

// Environment helpers.
std::string TestTmpDir();

}  // namespace dbrepl::testing

#endif  // DBREPL_INTEGRATION_TESTS_PROCESS_UTIL_H_
