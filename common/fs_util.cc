#include "common/fs_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace dbrepl {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int e = errno;
  std::string msg = absl::StrCat(what, " ", path, ": ", strerror(e));
  if (e == ENOENT) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

absl::Status FsyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return Errno("fsync", path);
  return absl::OkStatus();
}

}  // namespace

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::Status MakeDirs(const std::string& path) {
  if (path.empty() || IsDirectory(path)) return absl::OkStatus();
  std::string parent = Dirname(path);
  if (parent != path) {
    if (absl::Status s = MakeDirs(parent); !s.ok()) return s;
  }
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", path);
  if (!IsDirectory(path)) return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) { return FsyncPath(dir, O_RDONLY | O_DIRECTORY); }

absl::Status FsyncFile(const std::string& path) { return FsyncPath(path, O_RDONLY); }

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  std::string to_dir = Dirname(to);
  if (absl::Status s = MakeDirs(to_dir); !s.ok()) return s;
  if (absl::Status s = FsyncFile(from); !s.ok()) return s;
  if (rename(from.c_str(), to.c_str()) != 0) return Errno(absl::StrCat("rename to ", to, " from"), from);
  if (absl::Status s = FsyncDir(to_dir); !s.ok()) return s;
  std::string from_dir = Dirname(from);
  if (from_dir != to_dir) return FsyncDir(from_dir);
  return absl::OkStatus();
}

std::string Dirname(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

absl::StatusOr<double> MtimeSeconds(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Errno("stat", path);
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
}

}  // namespace dbrepl
