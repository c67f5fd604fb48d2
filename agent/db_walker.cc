#include "agent/db_walker.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/db/db_files.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

// os.path.exists: follows symlinks (PathExists does not).
bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The accepted partitions of one datadir, sorted by name.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListPartitions(const DatadirSpec& spec) {
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(spec.path);
  if (!names.ok()) return names.status();
  std::sort(names->begin(), names->end());
  std::vector<std::pair<int64_t, std::string>> partitions;
  for (std::string& name : *names) {
    absl::StatusOr<int64_t> p = ParsePartition(name);
    if (!p.ok()) continue;
    if (spec.partition_filter && !spec.partition_filter(*p)) continue;
    partitions.emplace_back(*p, std::move(name));
  }
  return partitions;
}

// The database file of a hash dir, or "" if it has none.
std::string DbFileIn(const std::string& hash_dir, const std::string& hash) {
  std::string db_file = JoinPath(hash_dir, absl::StrCat(hash, ".db"));
  if (Exists(db_file)) return db_file;
  std::vector<std::string> files = GetDbFiles(hash_dir, hash);
  return files.empty() ? std::string() : files.back();
}

// Sorted entries of `dir`, or nullopt when the directory cannot be read
// (reported unless it vanished).
absl::optional<std::vector<std::string>> ListSorted(const std::string& dir, const WalkErrorHandler& on_error) {
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(dir);
  if (!names.ok()) {
    if (!absl::IsNotFound(names.status())) on_error(names.status());
    return absl::nullopt;
  }
  std::sort(names->begin(), names->end());
  return std::move(*names);
}

}  // namespace

// The walk of one datadir, resumable: where it is in the partition, suffix
// and hash lists.
class DbWalker::DatadirCursor {
 public:
  struct Counters {
    int64_t* partitions_walked;
    int64_t* dirs_removed;
  };

  DatadirCursor(DatadirSpec spec, std::vector<std::pair<int64_t, std::string>> partitions)
      : spec_(std::move(spec)), partitions_(std::move(partitions)) {}

  absl::optional<WalkItem> Next(const Counters& counters, const WalkErrorHandler& on_error) {
    for (;;) {
      if (in_suffix_) {
        while (hash_index_ < hashes_.size()) {
          const std::string& hash = hashes_[hash_index_++];
          std::string hash_dir = JoinPath(suffix_dir_, hash);
          if (!IsDirectory(hash_dir)) continue;
          std::string db_file = DbFileIn(hash_dir, hash);
          if (!db_file.empty()) {
            return WalkItem{partitions_[partition_index_ - 1].first, std::move(db_file), spec_.node_id,
                            spec_.device};
          }
          RemoveDir(hash_dir, counters, on_error);
        }
        in_suffix_ = false;
      }
      if (in_partition_) {
        while (!in_suffix_ && suffix_index_ < suffixes_.size()) {
          std::string suffix_dir = JoinPath(part_dir_, suffixes_[suffix_index_++]);
          if (!IsDirectory(suffix_dir)) continue;
          absl::optional<std::vector<std::string>> hashes = ListSorted(suffix_dir, on_error);
          if (!hashes) continue;
          if (hashes->empty()) {
            RemoveDir(suffix_dir, counters, on_error);
            continue;
          }
          hashes_ = std::move(*hashes);
          hash_index_ = 0;
          suffix_dir_ = std::move(suffix_dir);
          in_suffix_ = true;
        }
        if (in_suffix_) continue;
        in_partition_ = false;
        ++*counters.partitions_walked;
      }
      if (partition_index_ >= partitions_.size()) return absl::nullopt;
      part_dir_ = JoinPath(spec_.path, partitions_[partition_index_++].second);
      absl::optional<std::vector<std::string>> suffixes;
      if (IsDirectory(part_dir_)) suffixes = ListSorted(part_dir_, on_error);
      if (!suffixes || suffixes->empty()) {
        if (suffixes) RemoveDir(part_dir_, counters, on_error);
        ++*counters.partitions_walked;
        continue;
      }
      suffixes_ = std::move(*suffixes);
      suffix_index_ = 0;
      in_partition_ = true;
    }
  }

  // The next partition's databases: Next() until it starts another
  // partition (or runs out).
  std::vector<WalkItem> NextPartition(const Counters& counters, const WalkErrorHandler& on_error) {
    std::vector<WalkItem> items;
    if (held_.has_value()) items.push_back(*std::move(held_)), held_.reset();
    while (absl::optional<WalkItem> item = Next(counters, on_error)) {
      if (!items.empty() && item->partition != items.front().partition) {
        held_ = std::move(item);  // The first of the next partition.
        break;
      }
      items.push_back(*std::move(item));
    }
    return items;
  }

 private:
  absl::optional<WalkItem> held_;

  // rmdir of an empty-looking dir. ENOTEMPTY (something arrived, or a hash
  // dir holds a .lock file) and ENOENT (removed concurrently) are expected.
  static void RemoveDir(const std::string& dir, const Counters& counters, const WalkErrorHandler& on_error) {
    if (rmdir(dir.c_str()) == 0) {
      ++*counters.dirs_removed;
      return;
    }
    int e = errno;
    if (e == ENOTEMPTY || e == EEXIST || e == ENOENT) return;
    on_error(absl::ErrnoToStatus(e, absl::StrCat("rmdir ", dir)));
  }

  const DatadirSpec spec_;
  std::vector<std::pair<int64_t, std::string>> partitions_;
  size_t partition_index_ = 0;  // next partition to start

  bool in_partition_ = false;
  std::string part_dir_;
  std::vector<std::string> suffixes_;
  size_t suffix_index_ = 0;

  bool in_suffix_ = false;
  std::string suffix_dir_;
  std::vector<std::string> hashes_;
  size_t hash_index_ = 0;
};

DbWalker::DbWalker(std::vector<DatadirSpec> specs, uint64_t seed, WalkErrorHandler on_error)
    : pending_specs_(std::move(specs)), on_error_(std::move(on_error)), seed_(seed) {
  if (!on_error_) {
    on_error_ = [](const absl::Status& s) { LOG(WARNING) << "replication walk: " << s; };
  }
}

DbWalker::~DbWalker() = default;

void DbWalker::ListAll() {
  listed_ = true;
  std::mt19937_64 rng(seed_);
  for (DatadirSpec& spec : pending_specs_) {
    absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> partitions = ListPartitions(spec);
    if (!partitions.ok()) {
      if (!absl::IsNotFound(partitions.status())) on_error_(partitions.status());
      continue;
    }
    std::shuffle(partitions->begin(), partitions->end(), rng);
    partitions_listed_ += static_cast<int64_t>(partitions->size());
    cursors_.push_back(std::make_unique<DatadirCursor>(std::move(spec), std::move(*partitions)));
  }
  pending_specs_.clear();
}

absl::optional<WalkItem> DbWalker::Next() {
  if (done_) return absl::nullopt;
  if (!listed_) ListAll();
  const DatadirCursor::Counters counters{&partitions_walked_, &dirs_removed_};
  while (!cursors_.empty()) {
    if (turn_ >= cursors_.size()) turn_ = 0;
    absl::optional<WalkItem> item = cursors_[turn_]->Next(counters, on_error_);
    if (item) {
      ++turn_;
      ++databases_yielded_;
      return item;
    }
    // Exhausted: the next datadir inherits the turn.
    cursors_.erase(cursors_.begin() + static_cast<std::ptrdiff_t>(turn_));
  }
  done_ = true;
  return absl::nullopt;
}

std::vector<WalkItem> DbWalker::NextPartition() {
  if (done_) return {};
  if (!listed_) ListAll();
  const DatadirCursor::Counters counters{&partitions_walked_, &dirs_removed_};
  while (!cursors_.empty()) {
    if (turn_ >= cursors_.size()) turn_ = 0;
    std::vector<WalkItem> items = cursors_[turn_]->NextPartition(counters, on_error_);
    if (!items.empty()) {
      ++turn_;
      databases_yielded_ += static_cast<int64_t>(items.size());
      return items;
    }
    cursors_.erase(cursors_.begin() + static_cast<std::ptrdiff_t>(turn_));
  }
  done_ = true;
  return {};
}

int64_t DbWalker::EstimatedTotal() const {
  if (done_) return databases_yielded_;
  if (partitions_walked_ == 0) return -1;
  double estimate = static_cast<double>(databases_yielded_) * static_cast<double>(partitions_listed_) /
                    static_cast<double>(partitions_walked_);
  return std::max(databases_yielded_, static_cast<int64_t>(std::llround(estimate)));
}

}  // namespace dbrepl::agent
