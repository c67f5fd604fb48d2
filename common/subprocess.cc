#include <sys/prctl.h>
#include "common/subprocess.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace dbrepl {

absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) return absl::InvalidArgumentError("SpawnProcess: empty argv");
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    // A child never outlives the dbrepl process that started it: a killed
    // peer must not leave its rsync daemon listening, nor a killed agent its
    // rsync client writing. (The signal follows the forking thread, which
    // waits for the child.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (output_fd >= 0) {
      dup2(output_fd, 1);
      dup2(output_fd, 2);
    }
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

absl::StatusOr<int> WaitForExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("waitpid ", pid, ": ", strerror(errno)));
  }
  return status;
}

int ExitCode(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace dbrepl
