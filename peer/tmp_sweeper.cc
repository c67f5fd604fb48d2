#include "peer/tmp_sweeper.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/db/lock_file.h"
#include "common/paths.h"
#include "glog/logging.h"
#include "peer/upload.h"

namespace dbrepl::peer {

void TmpSweeper::Start() {
  thread_ = std::thread([this] {
    const absl::Duration period = std::max(max_age_ / 2, absl::Seconds(1));
    while (!stop_.WaitForNotificationWithTimeout(period)) SweepOnce();
  });
}

void TmpSweeper::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool LooksLikeUpload(absl::string_view name) {
  if (!name.empty() && name[0] == '.') {
    // rsync's ".<name>.<6 random characters>".
    const size_t dot = name.rfind('.');
    if (dot == 0 || name.size() - dot != 7) return false;
    name = name.substr(1, dot - 1);
  }
  if (name.size() < 38 || name[36] != '-') return false;
  for (size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? name[i] != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  return true;
}

int TmpSweeper::SweepOnce() {
  int removed = 0;
  absl::StatusOr<std::vector<std::string>> devices = env_->ListDir(devices_);
  if (!devices.ok()) return 0;
  const int64_t cutoff_ns = absl::ToUnixNanos(env_->Now() - max_age_);
  for (const std::string& device : *devices) {
    const std::string tmp = JoinPath(JoinPath(devices_, device), "tmp");
    absl::StatusOr<FileInfo> dir = env_->Lstat(tmp);
    if (!dir.ok() || !dir->is_directory()) continue;
    absl::StatusOr<std::vector<std::string>> files = env_->ListDir(tmp);
    if (!files.ok()) continue;
    for (const std::string& name : *files) {
      const std::string path = JoinPath(tmp, name);
      if (absl::StrContains(name, ".installing")) {
        // A private install name: abandoned unless an install of this
        // process holds it (a crash, or a device that vanished under it).
        std::string owner = path.substr(0, path.find(".installing") + std::strlen(".installing"));
        if (UploadInUse(owner)) continue;
        if (env_->RemoveFile(path).ok()) {
          LOG(INFO) << "removed an abandoned install: " << path;
          ++removed;
        }
        continue;
      }
      absl::StatusOr<FileInfo> info = env_->Lstat(path);
      if (!info.ok()) continue;
      if (info->is_directory()) {
        if (absl::StartsWith(name, kOutboxPrefix) && info->mtime_ns < cutoff_ns) {
          removed += RemoveOutbox(path);
        }
        continue;
      }
      if (!LooksLikeUpload(name)) continue;  // Another daemon's: reclaim_age, as Swift.
      if (info->mtime_ns >= cutoff_ns || info->ctime_ns >= cutoff_ns) continue;
      if (env_->RemoveFile(path).ok()) {
        LOG(INFO) << "removed an upload nobody claimed for " << absl::FormatDuration(max_age_) << ": " << path;
        ++removed;
      }
    }
  }
  return removed;
}

int TmpSweeper::RemoveOutbox(const std::string& dir) {
  // Its agent holds it locked for the whole push (agent/rsync_runner.h);
  // unlocked and untouched for max_age, its agent died. Only hard links to
  // databases are in it: unlinking them frees nothing a database needs.
  absl::StatusOr<DirectoryLock> abandoned = TryLockDirectoryItself(dir);
  if (!abandoned.ok()) return 0;
  int removed = 0;
  absl::StatusOr<std::vector<std::string>> links = env_->ListDir(dir);
  if (!links.ok()) return 0;
  for (const std::string& link : *links) removed += env_->RemoveFile(JoinPath(dir, link)).ok() ? 1 : 0;
  if (absl::Status s = env_->RemoveDir(dir); !s.ok()) {
    LOG(WARNING) << "could not remove an abandoned outbox: " << s;
  } else {
    LOG(INFO) << "removed an abandoned agent outbox (" << removed << " links): " << dir;
  }
  return removed;
}

}  // namespace dbrepl::peer
