// Swift's lock_parent_directory(): an exclusive flock on "<dir>/.lock" that
// serialises the writers of a hash directory's non-SQLite state: the .pending
// file, the rename that creates a database, and deleting the directory.
//
//   ASSIGN_OR_RETURN(DirectoryLock lock, LockParentDirectory(db_file, absl::Seconds(10)));
//   ... append to <db_file>.pending ...
//   // released when `lock` goes out of scope
//
// Like Swift: the directory is created if missing, the lock is tried with
// LOCK_NB every 10 ms (after 1% of the timeout, every max(1% of the timeout,
// 10 ms)), and the .lock file is never removed. flock locks belong to the
// open file, so two DirectoryLocks conflict even within one process; they
// interoperate with Swift's processes.
//
// Errors: UNAVAILABLE when the timeout passes ("LockTimeout"); INTERNAL for
// filesystem errors. A DirectoryLock is movable, not thread-safe.
#ifndef DBREPL_COMMON_DB_LOCK_FILE_H_
#define DBREPL_COMMON_DB_LOCK_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dbrepl {

class DirectoryLock {
 public:
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  friend absl::StatusOr<DirectoryLock> LockExistingDirectory(const std::string&, absl::Duration);
  friend absl::StatusOr<DirectoryLock> TryLockDirectoryItself(const std::string&);
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

// Locks `directory` (Swift's lock_path).
absl::StatusOr<DirectoryLock> LockDirectory(const std::string& directory, absl::Duration timeout);

// As LockDirectory, but never creates the directory: NOT_FOUND if it is gone
// (for writers whose directory vanishing means "the database was removed").
absl::StatusOr<DirectoryLock> LockExistingDirectory(const std::string& directory, absl::Duration timeout);

// A flock on the directory's own descriptor (no ".lock" file in it, so the
// directory holds only what its owner put there), tried once: UNAVAILABLE if
// another holder has it, NOT_FOUND if the directory is gone. dbrepl's own
// convention (an agent's rsync outbox), not Swift's.
absl::StatusOr<DirectoryLock> TryLockDirectoryItself(const std::string& directory);

// Locks the directory containing `file` (Swift's lock_parent_directory).
absl::StatusOr<DirectoryLock> LockParentDirectory(const std::string& file, absl::Duration timeout);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_LOCK_FILE_H_
