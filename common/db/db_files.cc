#include "common/db/db_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  int e = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

// Python's os.path.splitext on a base name: the extension starts at the last
// '.', unless everything before that dot is dots (".db" has no extension).
std::pair<absl::string_view, absl::string_view> SplitExt(absl::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return {name, ""};
  for (size_t i = 0; i < dot; ++i) {
    if (name[i] != '.') return {name.substr(0, dot), name.substr(dot)};
  }
  return {name, ""};
}

}  // namespace

std::string PythonDirname(absl::string_view path) {
  size_t i = path.rfind('/');
  std::string head(i == absl::string_view::npos ? absl::string_view() : path.substr(0, i + 1));
  if (!head.empty() && head.find_first_not_of('/') != std::string::npos) {
    while (!head.empty() && head.back() == '/') head.pop_back();
  }
  return head;
}

std::string PythonBasename(absl::string_view path) {
  size_t i = path.rfind('/');
  return std::string(i == absl::string_view::npos ? path : path.substr(i + 1));
}

std::string DevicePath(absl::string_view db_file) {
  std::string path = PythonDirname(db_file);  // The hash directory.
  for (int i = 0; i < 4; ++i) path = PythonDirname(path);
  return path;
}

std::string NewUuid4() {
  thread_local absl::BitGen gen;
  uint64_t hi = absl::Uniform<uint64_t>(gen);
  uint64_t lo = absl::Uniform<uint64_t>(gen);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                     // Version 4.
  lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);     // RFC 4122 variant.
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                         lo & 0xffffffffffffULL);
}

std::string NewUuid4Hex() {
  std::string id = NewUuid4();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id;
}

std::string NewDbId(absl::string_view db_file) {
  return absl::StrCat(NewUuid4(), "-", PythonBasename(DevicePath(db_file)));
}

absl::Status Renamer(const std::string& from, const std::string& to, bool fsync) {
  std::string parent = PythonDirname(to);
  if (absl::Status s = MakeDirs(parent); !s.ok()) return s;
  if (rename(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return absl::AlreadyExistsError(absl::StrCat("rename ", from, " to ", to, ": ", std::strerror(errno)));
    }
    return Errno(absl::StrCat("rename to ", to, " from"), from);
  }
  if (fsync) (void)FsyncDir(parent.empty() ? "." : parent);
  return absl::OkStatus();
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (absl::StatusOr<std::vector<std::string>> names = ListDirectory(path); names.ok()) {
      for (const std::string& name : *names) RemoveTree(absl::StrCat(path, "/", name));
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

absl::StatusOr<std::string> QuarantineHashDir(const std::string& hash_dir, DbType type) {
  struct stat st;
  if (stat(hash_dir.c_str(), &st) != 0) return Errno("quarantine", hash_dir);
  // DevicePath() strips four components from a file's directory; the hash
  // directory is that directory.
  std::string device = DevicePath(absl::StrCat(hash_dir, "/x"));
  std::string target =
      absl::StrCat(device.empty() ? "" : device + "/", "quarantined/", Datadir(type), "/", PythonBasename(hash_dir));
  absl::Status s = Renamer(hash_dir, target, /*fsync=*/false);
  if (absl::IsAlreadyExists(s)) {
    target = absl::StrCat(target, "-", NewUuid4Hex());
    s = Renamer(hash_dir, target, /*fsync=*/false);
  }
  if (!s.ok()) return s;
  return target;
}

absl::StatusOr<HashDirFiles> ListHashDir(const std::string& hash_dir, const std::string& hash) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(hash_dir));
  HashDirFiles out;
  for (const std::string& name : names) {
    if (absl::EndsWith(name, ".tmp")) {
      struct stat st;
      if (stat(absl::StrCat(hash_dir, "/", name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const absl::Time t = absl::TimeFromTimespec(st.st_mtim);
      if (!out.oldest_tmp.has_value() || t < *out.oldest_tmp) out.oldest_tmp = t;
      continue;
    }
    auto [stem, ext] = SplitExt(name);
    if (ext != ".db") continue;
    absl::string_view file_hash = stem.substr(0, stem.find('_'));
    if (file_hash != hash) continue;
    out.db_files.push_back(absl::StrCat(hash_dir, "/", name));
  }
  std::sort(out.db_files.begin(), out.db_files.end());
  return out;
}

std::vector<std::string> GetDbFiles(const std::string& hash_dir, const std::string& hash) {
  absl::StatusOr<HashDirFiles> files = ListHashDir(hash_dir, hash);
  return files.ok() ? std::move(files->db_files) : std::vector<std::string>();
}

std::string DbStateOf(const std::string& db_file, const std::vector<std::string>& files, int64_t shard_max_row) {
  const std::string base = PythonBasename(db_file);
  const std::string hash = base.substr(0, std::min(base.find('_'), base.rfind('.')));
  if (files.size() > 1) return "sharding";
  if (base == hash + ".db") return "unsharded";
  // The epoch file alone. Swift tells sharded from collapsed (and from an
  // epoch that is not its own shard range's) by the shard ranges; what
  // matters here is that it is not "unsharded".
  return shard_max_row >= 0 ? "sharded" : "collapsed";
}

bool HasEpochDbFile(const std::string& hash_dir, const std::string& hash) {
  const std::string base = absl::StrCat(hash_dir, "/", hash, ".db");
  for (const std::string& f : GetDbFiles(hash_dir, hash)) {
    if (f != base) return true;
  }
  return false;
}

absl::StatusOr<absl::optional<absl::Time>> OldestTmpFile(const std::string& dir) {
  ASSIGN_OR_RETURN(HashDirFiles files, ListHashDir(dir, ""));
  return files.oldest_tmp;
}

absl::StatusOr<int> RemoveTmpFilesOlderThan(const std::string& dir, absl::Time cutoff) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  int removed = 0;
  for (const std::string& name : names) {
    if (!absl::EndsWith(name, ".tmp")) continue;
    std::string path = absl::StrCat(dir, "/", name);
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (absl::TimeFromTimespec(st.st_mtim) < cutoff && unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace dbrepl
