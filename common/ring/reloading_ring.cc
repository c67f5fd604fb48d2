#include "common/ring/reloading_ring.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl {

absl::StatusOr<ReloadingRing::FileState> ReloadingRing::Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ring ", path));
  FileState s;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.size = st.st_size;
  s.inode = st.st_ino;
  return s;
}

absl::StatusOr<std::unique_ptr<ReloadingRing>> ReloadingRing::Open(const std::string& path, Options options) {
  // Stat before reading: if the file is replaced in between, the next check
  // sees a different state and loads again, rather than missing the change.
  ASSIGN_OR_RETURN(FileState state, Stat(path));
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load(path));
  return std::unique_ptr<ReloadingRing>(
      new ReloadingRing(path, std::move(options), std::shared_ptr<const Ring>(std::move(ring)), state));
}

ReloadingRing::ReloadingRing(std::string path, Options options, std::shared_ptr<const Ring> ring, FileState state)
    : path_(std::move(path)), options_(std::move(options)), ring_(std::move(ring)), loaded_state_(state) {
  next_check_ = options_.clock() + options_.check_interval;
}

std::shared_ptr<const Ring> ReloadingRing::Get() {
  FileState loaded;
  absl::optional<FileState> failed;
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = options_.clock();
    if (now < next_check_) return ring_;
    next_check_ = now + options_.check_interval;
    loaded = loaded_state_;
    failed = failed_state_;
    seq = ++check_seq_;
  }
  absl::StatusOr<FileState> state = Stat(path_);
  absl::Status error;
  std::shared_ptr<const Ring> fresh;
  if (!state.ok()) {
    error = state.status();
  } else if (*state == loaded || (failed.has_value() && *state == *failed)) {
    absl::MutexLock lock(&mu_);
    return ring_;  // Unchanged, or the same bad file as last time.
  } else {
    absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Load(path_);
    if (ring.ok()) {
      fresh = std::shared_ptr<const Ring>(*std::move(ring));
    } else {
      error = ring.status();
    }
  }
  bool report = false;
  std::shared_ptr<const Ring> current;
  {
    absl::MutexLock lock(&mu_);
    // Two slow checks can overlap; the older one must not undo the newer.
    if (seq < result_seq_) return ring_;
    result_seq_ = seq;
    if (fresh != nullptr) {
      ring_ = std::move(fresh);
      loaded_state_ = *state;
      failed_state_.reset();
      last_error_ = absl::OkStatus();
    } else {
      // A missing file has no state to remember: report it every check.
      report = !state.ok() || !(failed_state_.has_value() && *failed_state_ == *state);
      if (state.ok()) failed_state_ = *state;
      last_error_ = error;
    }
    current = ring_;
  }
  if (report) {
    absl::Status annotated(error.code(), absl::StrCat("keeping the previous ring: ", error.message()));
    if (options_.on_error) {
      options_.on_error(annotated);
    } else {
      LOG(ERROR) << annotated;
    }
  }
  return current;
}

absl::Status ReloadingRing::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

}  // namespace dbrepl
