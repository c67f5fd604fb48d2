// Starting and reaping child processes (rsync, the rsync daemon, test
// binaries) the one way dbrepl does it: the child gets an empty signal mask
// (dbrepl blocks SIGTERM/SIGINT in its own threads to sigwait() for them, and
// a child must not inherit that), optional stdout/stderr redirection, and
// execvp of argv[0].
//
// Thread-safe (fork/exec/waitpid only).
#ifndef DBREPL_COMMON_SUBPROCESS_H_
#define DBREPL_COMMON_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dbrepl {

// Starts argv[0] (looked up in PATH) with `argv`. If `output_fd` >= 0 the
// child's stdout and stderr go there. The child is killed (SIGKILL) if the
// thread that started it dies, so no child outlives a crashed dbrepl
// process. INTERNAL if fork fails; a failed exec shows up as exit status 127.
absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv, int output_fd = -1);

// Waits for `pid` (retrying on EINTR) and returns its wait status.
absl::StatusOr<int> WaitForExit(pid_t pid);

// The exit code of a wait status: the exit status, or 128 + signal.
int ExitCode(int wait_status);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_SUBPROCESS_H_
