#include "agent/replication_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

// 60 bits of the hash: distinct databases practically never share a byte.
int64_t OffsetOf(const std::string& hash) {
  uint64_t v = 0;
  if (!absl::SimpleHexAtoi(absl::string_view(hash).substr(0, 15), &v)) return 0;
  return static_cast<int64_t>(v);
}

bool SetLock(int fd, int64_t offset, short type) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = offset;
  fl.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

}  // namespace

ReplicationLocks::~ReplicationLocks() {
  absl::MutexLock lock(&mu_);
  for (const auto& [path, fd] : files_) close(fd);
}

ReplicationLocks::Held::~Held() {
  if (locks_ != nullptr) locks_->Release(key_, fd_, offset_);
}

absl::StatusOr<ReplicationLocks::Held> ReplicationLocks::TryLock(const std::string& device_path,
                                                                 const std::string& hash) {
  const std::string key = absl::StrCat(device_path, "/", hash);
  absl::MutexLock lock(&mu_);
  if (held_.count(key) > 0) {
    return absl::UnavailableError(absl::StrCat(hash, " is being replicated by another worker of this agent"));
  }
  auto it = files_.find(device_path);
  if (it == files_.end()) {
    std::string path = absl::StrCat(device_path, "/.dbrepl-", ServerType(type_), "-replicator.lock");
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
    it = files_.emplace(device_path, fd).first;
  }
  const int64_t offset = OffsetOf(hash);
  if (!SetLock(it->second, offset, F_WRLCK)) {
    if (errno == EAGAIN || errno == EACCES) {
      return absl::UnavailableError(absl::StrCat(hash, " is being replicated by another agent process"));
    }
    return absl::InternalError(absl::StrCat("lock ", device_path, " for ", hash, ": ", std::strerror(errno)));
  }
  held_.insert(key);
  return Held(this, key, it->second, offset);
}

void ReplicationLocks::Release(const std::string& key, int fd, int64_t offset) {
  absl::MutexLock lock(&mu_);
  if (!SetLock(fd, offset, F_UNLCK)) LOG(WARNING) << "unlock " << key << ": " << std::strerror(errno);
  held_.erase(key);
}

}  // namespace dbrepl::agent
