// Env::Default(): plain system calls.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/env/env.h"

namespace dbrepl {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path, int e) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  switch (e) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ENOTEMPTY:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
      return absl::FailedPreconditionError(msg);
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

FileInfo FromStat(const struct stat& st) {
  FileInfo info;
  info.dev = st.st_dev;
  info.ino = st.st_ino;
  info.size = st.st_size;
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  info.mode = st.st_mode;
  info.nlink = st.st_nlink;
  return info;
}

absl::Status SyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("open", path, errno);
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0) return Errno("fsync", path, e);
  return absl::OkStatus();
}

class PosixEnv final : public Env {
 public:
  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return Errno("stat", path, errno);
    return FromStat(st);
  }
  absl::StatusOr<FileInfo> Lstat(const std::string& path) override {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return Errno("lstat", path, errno);
    return FromStat(st);
  }
  absl::Status CreateDir(const std::string& path) override {
    if (mkdir(path.c_str(), 0755) != 0) return Errno("mkdir", path, errno);
    return absl::OkStatus();
  }
  absl::Status RemoveDir(const std::string& path) override {
    if (rmdir(path.c_str()) != 0) return Errno("rmdir", path, errno);
    return absl::OkStatus();
  }
  absl::Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return Errno("unlink", path, errno);
    return absl::OkStatus();
  }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return Errno(absl::StrCat("rename to ", to, " from"), from, errno);
    return absl::OkStatus();
  }
  absl::Status SyncFile(const std::string& path) override { return SyncPath(path, O_RDONLY | O_NOFOLLOW); }
  absl::Status SyncDir(const std::string& path) override { return SyncPath(path, O_RDONLY | O_DIRECTORY); }
  absl::Status WriteNewFile(const std::string& path, absl::string_view data, uint32_t mode) override {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("create", path, errno);
    if (fchmod(fd, mode) != 0) {
      int e = errno;
      close(fd);
      return Errno("chmod", path, e);
    }
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        return Errno("write", path, e);
      }
      done += static_cast<size_t>(n);
    }
    if (close(fd) != 0) return Errno("close", path, errno);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", path, errno);
    std::string out;
    char buf[64 << 10];
    while (true) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(fd);
        return Errno("read", path, e);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return out;
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* d = opendir(path.c_str());
    if (d == nullptr) return Errno("opendir", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    }
    int e = errno;
    closedir(d);
    if (e != 0) return Errno("readdir", path, e);
    return names;
  }
  absl::Time Now() override { return absl::Now(); }
};

}  // namespace

bool FileInfo::is_regular() const { return S_ISREG(mode); }
bool FileInfo::is_directory() const { return S_ISDIR(mode); }
bool FileInfo::is_symlink() const { return S_ISLNK(mode); }

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace dbrepl
