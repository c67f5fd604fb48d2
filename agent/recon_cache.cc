#include "agent/recon_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/python_json.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

absl::Status ErrnoStatus(absl::string_view what, const std::string& path, int e) {
  std::string msg = absl::StrCat("recon cache: ", what, " ", path, ": ", strerror(e));
  if (e == ENOENT) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

// Swift's lock_file(cache_file, timeout, unlink=False): an open, flocked fd of
// the file currently at `path`.
absl::StatusOr<int> LockCacheFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      if (e != EWOULDBLOCK && e != EINTR) {
        close(fd);
        return ErrnoStatus("flock", path, e);
      }
      if (absl::Now() >= deadline) {
        close(fd);
        return absl::UnavailableError(absl::StrCat("recon cache: timed out after ", absl::FormatDuration(timeout),
                                                   " waiting for the lock on ", path));
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    // Another writer may have renamed a new file over the one we locked.
    struct stat by_path, by_fd;
    if (stat(path.c_str(), &by_path) == 0 && fstat(fd, &by_fd) == 0 && by_path.st_ino == by_fd.st_ino &&
        by_path.st_dev == by_fd.st_dev) {
      return fd;
    }
    close(fd);
  }
}

// The first line of the open file (Python's readline()).
absl::StatusOr<std::string> ReadFirstLine(int fd, const std::string& path) {
  std::string line;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) return line;
    absl::string_view chunk(buf, static_cast<size_t>(n));
    size_t newline = chunk.find('\n');
    if (newline != absl::string_view::npos) {
      line.append(chunk.data(), newline + 1);
      return line;
    }
    line.append(chunk.data(), chunk.size());
  }
}

}  // namespace

void PutReconCacheEntry(nlohmann::json& cache_entry, const std::string& key, const nlohmann::json& item) {
  if (!item.is_object()) {
    cache_entry[key] = item;
    return;
  }
  if (item.empty()) {
    cache_entry.erase(key);
    return;
  }
  nlohmann::json& existing = cache_entry[key];
  if (!existing.is_object()) existing = nlohmann::json::object();
  for (auto it = item.begin(); it != item.end(); ++it) {
    if (it.value().is_object() && it.value().empty()) {
      existing.erase(it.key());
    } else {
      existing[it.key()] = it.value();
    }
  }
}

absl::Status DumpReconCache(const std::string& cache_file, const nlohmann::json& entries,
                            absl::Duration lock_timeout, Env* env) {
  if (!entries.is_object()) return absl::InvalidArgumentError("recon cache: entries must be a JSON object");
  ASSIGN_OR_RETURN(int fd, LockCacheFile(cache_file, lock_timeout));
  absl::Cleanup unlock = [fd] { close(fd); };  // releases the flock

  ASSIGN_OR_RETURN(std::string line, ReadFirstLine(fd, cache_file));
  nlohmann::json cache = nlohmann::json::object();
  if (!line.empty()) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      cache = std::move(parsed);
    } else {
      LOG(WARNING) << "recon cache " << cache_file << " does not hold a JSON object; rewriting it";
    }
  }
  for (auto it = entries.begin(); it != entries.end(); ++it) PutReconCacheEntry(cache, it.key(), it.value());
  ASSIGN_OR_RETURN(std::string text, PythonJsonDumps(cache));
  // Swift does not fsync its recon cache; one fsync a pass is cheap, and
  // after a crash swift-recon then reads the last pass or the one before,
  // never an empty file.
  return WriteFileAtomically(env, cache_file, absl::StrCat(text, "\n"));
}

std::string ReconCacheFile(const std::string& recon_cache_path, DbType type) {
  return JoinPath(recon_cache_path, absl::StrCat(ServerType(type), ".recon"));
}

absl::Status WriteReplicationRecon(const std::string& recon_cache_path, DbType type, const PassStats& stats,
                                   double now, Env* env) {
  nlohmann::json entries = {
      {"replication_stats", ReplicationStatsJson(stats)},
      {"replication_time", now - stats.start},
      {"replication_last", now},
  };
  return DumpReconCache(ReconCacheFile(recon_cache_path, type), entries, absl::Seconds(2), env);
}

}  // namespace dbrepl::agent
