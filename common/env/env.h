// Env: the filesystem and clock as dbrepl's own code uses them, behind one
// small interface so that tests can fail a chosen call or simulate a crash
// that loses what was not yet made durable (LevelDB's Env and
// FaultInjectionTestEnv are the model). SQLite does its own I/O through its
// VFS and is not routed through here; what goes through an Env is every
// rename, unlink, mkdir, fsync and small file write that installs, removes
// or records something (database installs, quarantine, ring and recon files).
//
//   Env* env = Env::Default();
//   RETURN_IF_ERROR(env->RenameFile(tmp, target));
//   RETURN_IF_ERROR(env->SyncDir(Dirname(target)));
//
// Durability model (what the fault-injecting Env enforces): a write to a
// file is durable once SyncFile(file) returns; a name created, removed or
// renamed in a directory is durable once SyncDir(directory) returns (for a
// rename: both directories). Composite operations that need durability are in
// common/env/file_ops.h.
//
// Errors: NOT_FOUND when a path (or its parent) does not exist,
// ALREADY_EXISTS for CreateDir/WriteNewFile over an existing name,
// FAILED_PRECONDITION when a path is of the wrong kind (e.g. a symlink where
// none may be), INTERNAL for any other errno; every message names the path
// and the errno text.
//
// Thread-safety: Env::Default() and every implementation are thread-safe.
#ifndef DBREPL_COMMON_ENV_ENV_H_
#define DBREPL_COMMON_ENV_ENV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dbrepl {

// What lstat(2)/stat(2) say of a path, the parts dbrepl uses. Two FileInfos
// with equal `dev` and `ino` name the same file.
struct FileInfo {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;  // Since the epoch.
  int64_t ctime_ns = 0;
  uint32_t mode = 0;     // st_mode.
  uint64_t nlink = 0;
  bool is_regular() const;
  bool is_directory() const;
  bool is_symlink() const;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX implementation (never deleted).
  static Env* Default();

  // stat(2) (follows symlinks) and lstat(2) (does not).
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;
  virtual absl::StatusOr<FileInfo> Lstat(const std::string& path) = 0;

  // mkdir(2) with mode 0755.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // rmdir(2): FAILED_PRECONDITION when not empty.
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  // unlink(2).
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // rename(2): atomic; replaces `to` if it exists.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  // fsync(2) of a regular file or a directory.
  virtual absl::Status SyncFile(const std::string& path) = 0;
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // Creates `path` with permission bits `mode` (not subject to the umask;
  // never over an existing name, never through a symlink) and writes `data`
  // to it; not synced.
  virtual absl::Status WriteNewFile(const std::string& path, absl::string_view data, uint32_t mode) = 0;
  // The whole contents of a regular file.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // Names in a directory, without "." and "..", in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;

  // Wall-clock time (Swift's time.time()).
  virtual absl::Time Now() = 0;
  double NowSeconds() { return absl::ToDoubleSeconds(Now() - absl::UnixEpoch()); }
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_ENV_ENV_H_
