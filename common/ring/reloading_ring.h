// A ring that follows its file, as Swift's Ring does: at most once every
// `check_interval` (Swift: 15 s) a Get() looks at the file and, if it
// changed, loads the new ring. Callers take a snapshot per unit of work, so
// one database is replicated against one consistent ring:
//
//   ASSIGN_OR_RETURN(auto rings, ReloadingRing::Open("/etc/swift/container.ring.gz"));
//   std::shared_ptr<const Ring> ring = rings->Get();
//   std::vector<RingNode> nodes = ring->GetPartNodes(part);
//
// "Changed" means a different mtime (to the nanosecond), size or inode;
// Swift compares only the mtime, which misses a new ring renamed into place
// with a preserved mtime. If the new file cannot be loaded (corrupt, half
// written, removed), the old ring stays in use, the error is reported once
// per distinct file state through `on_error` (default: LOG(ERROR)) and kept
// in last_error(); a later good file is picked up as usual.
//
// Thread-safe. Loading happens outside the lock: while one thread loads,
// the others keep getting the previous ring; if two loads overlap, the
// result of the later check wins.
#ifndef DBREPL_COMMON_RING_RELOADING_RING_H_
#define DBREPL_COMMON_RING_RELOADING_RING_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/ring/ring.h"

namespace dbrepl {

class ReloadingRing {
 public:
  struct Options {
    // How often Get() may look at the file (Swift's reload_time).
    absl::Duration check_interval = absl::Seconds(15);
    // The clock; tests substitute a fake one.
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    // Called (outside the lock) when a changed file fails to load.
    std::function<void(const absl::Status&)> on_error;
  };

  // Loads `path` now; fails as Ring::Load does (a first ring is required).
  static absl::StatusOr<std::unique_ptr<ReloadingRing>> Open(const std::string& path, Options options);
  static absl::StatusOr<std::unique_ptr<ReloadingRing>> Open(const std::string& path) {
    return Open(path, Options());
  }

  // The current ring, after reloading it if the check interval has passed
  // and the file changed. Never null; never fails.
  std::shared_ptr<const Ring> Get();

  // The error of the last failed reload, or OK if the last attempt (or the
  // initial load) succeeded.
  absl::Status last_error() const;

  const std::string& path() const { return path_; }

 private:
  // What identifies a version of the file.
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    bool operator==(const FileState& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };
  static absl::StatusOr<FileState> Stat(const std::string& path);

  ReloadingRing(std::string path, Options options, std::shared_ptr<const Ring> ring, FileState state);

  const std::string path_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Ring> ring_ ABSL_GUARDED_BY(mu_);
  FileState loaded_state_ ABSL_GUARDED_BY(mu_);
  // The state whose load failed, so a bad file is reported once.
  absl::optional<FileState> failed_state_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
  // Checks are numbered; only a result newer than the last applied one is
  // applied.
  uint64_t check_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t result_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_RELOADING_RING_H_
