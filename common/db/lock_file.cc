#include "common/db/lock_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/db_files.h"

namespace dbrepl {

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) close(fd_);  // Closing releases the flock.
}

absl::StatusOr<DirectoryLock> LockDirectory(const std::string& dir, absl::Duration timeout) {
  const std::string directory = dir.empty() ? "." : dir;
  if (absl::Status s = MakeDirs(directory); !s.ok()) return s;
  return LockExistingDirectory(directory, timeout);
}

absl::StatusOr<DirectoryLock> LockExistingDirectory(const std::string& dir, absl::Duration timeout) {
  const std::string directory = dir.empty() ? "." : dir;
  std::string lock_path = absl::StrCat(directory, "/.lock");
  // Never through a symlink: a planted .lock must not create files elsewhere.
  int fd = open(lock_path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0777);
  if (fd < 0) {
    int e = errno;
    std::string message = absl::StrCat("open ", lock_path, ": ", std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(message);
    if (e == EMFILE || e == ENFILE) return absl::UnavailableError(message);
    return absl::InternalError(message);
  }
  DirectoryLock lock(fd);
  absl::Duration sleep_time = absl::Milliseconds(10);
  const absl::Duration slower_sleep_time = std::max(timeout * 0.01, sleep_time);
  const absl::Duration slowdown_at = timeout * 0.01;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration slept;
  while (true) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return absl::InternalError(absl::StrCat("flock ", lock_path, ": ", std::strerror(errno)));
    }
    absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("LockTimeout (", absl::FormatDuration(timeout), ") ", lock_path));
    }
    if (slept > slowdown_at) sleep_time = slower_sleep_time;
    absl::SleepFor(std::min(sleep_time, deadline - now));
    slept += sleep_time;
  }
}

absl::StatusOr<DirectoryLock> TryLockDirectoryItself(const std::string& directory) {
  int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string message = absl::StrCat("open ", directory, ": ", std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(message);
    if (e == EMFILE || e == ENFILE) return absl::UnavailableError(message);
    return absl::InternalError(message);
  }
  DirectoryLock lock(fd);
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
  if (errno == EWOULDBLOCK) return absl::UnavailableError(absl::StrCat(directory, " is locked by another holder"));
  return absl::InternalError(absl::StrCat("flock ", directory, ": ", std::strerror(errno)));
}

absl::StatusOr<DirectoryLock> LockParentDirectory(const std::string& file, absl::Duration timeout) {
  return LockDirectory(PythonDirname(file), timeout);
}

}  // namespace dbrepl
