// DbWalker: Swift's roundrobin_datadirs(), the walk over the local devices
// that produces the databases one replication pass visits.
//
//   std::vector<DatadirSpec> specs = {{"/srv/node/sda/containers", 3, "sda", nullptr},
//                                     {"/srv/node/sdb/containers", 4, "sdb", nullptr}};
//   DbWalker walker(std::move(specs), absl::Uniform<uint64_t>(bitgen));
//   while (absl::optional<WalkItem> item = walker.Next()) Replicate(*item);
//
// Layout walked: <datadir>/<partition>/<suffix>/<hash>/<hash>[_<epoch>].db.
//
// Per datadir, exactly as Swift:
//   * the partitions are the entries whose names parse as partitions
//     (ParsePartition: non-numeric names such as operator tooling dirs, and
//     negative ones, are skipped) and that the spec's partition_filter accepts;
//     they are shuffled (seeded: the same seed and the same directory contents
//     give the same order);
//   * a partition entry that is not a directory is skipped; an empty partition
//     dir is removed (rmdir);
//   * per suffix dir: an empty one is removed; a non-directory is skipped;
//   * per hash dir: "<hash>/<hash>.db" is yielded if it exists; otherwise the
//     last (sorted) "<hash>_<epoch>.db" file (a sharded container's newest
//     DB) is yielded; otherwise the hash dir is removed, unless it is not empty
//     (a leftover .lock or .pending file keeps it).
//
// Devices are interleaved round-robin: one item from each datadir in turn.
// A datadir with nothing left is dropped and the turn passes to the next one
// (Python's round_robin_iter also skips the datadir after a dropped one for
// that round; we do not reproduce that quirk, it only changes the order).
//
// Laziness: every datadir's partition list is read (one readdir per device)
// on the first Next(), so partitions_listed() is the pass's partition count
// from then on; a partition's suffixes and hashes are read only when the walk
// reaches it. Suffix and hash names are sorted, so the order depends only on
// the seed and the directory contents.
//
// Errors: a datadir, partition or suffix that vanishes while being walked
// (ENOENT: delete_db removes suffix and partition dirs concurrently) is skipped
// silently. Any other listing or rmdir error is passed to the error handler
// (default: LOG(WARNING)) and that directory is skipped; unlike Swift, one bad
// directory does not abort the whole pass.
//
// Thread-safety: a DbWalker is not thread-safe; one thread calls Next() (the
// pass's producer). The counters may only be read by that same thread.
#ifndef DBREPL_AGENT_DB_WALKER_H_
#define DBREPL_AGENT_DB_WALKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"

namespace dbrepl::agent {

// One local device's data directory.
struct DatadirSpec {
  std::string path;  // <devices>/<device>/<accounts|containers>
  int node_id = -1;  // the device's ring id
  std::string device;
  // Swift's _partition_dir_filter (partitions override, handoffs_only). Empty
  // accepts every partition.
  std::function<bool(int64_t partition)> partition_filter;
};

// One database to replicate.
struct WalkItem {
  int64_t partition = 0;
  std::string db_file;  // absolute path of the .db file
  int node_id = -1;
  std::string device;
};

// Receives listing and rmdir failures (never ENOENT races).
using WalkErrorHandler = std::function<void(const absl::Status&)>;

class DbWalker {
 public:
  // `seed` drives the partition shuffle. `on_error` may be empty: errors are
  // then logged as warnings.
  DbWalker(std::vector<DatadirSpec> specs, uint64_t seed, WalkErrorHandler on_error = nullptr);
  ~DbWalker();
  DbWalker(const DbWalker&) = delete;
  DbWalker& operator=(const DbWalker&) = delete;

  // The next database, or nullopt when every datadir is exhausted (and on
  // every later call).
  absl::optional<WalkItem> Next();

  // Every database of the next partition (of one datadir; datadirs take
  // turns partition by partition), in walk order; empty when every datadir
  // is exhausted. Partitions with no database are skipped (and removed as
  // Next() removes them). Do not mix with Next() in one walk.
  std::vector<WalkItem> NextPartition();

  // Partitions accepted (after the filter) in all datadirs; final after the
  // first Next().
  int64_t partitions_listed() const { return partitions_listed_; }
  // Partitions whose contents have been fully walked.
  int64_t partitions_walked() const { return partitions_walked_; }
  // Databases yielded so far.
  int64_t databases_yielded() const { return databases_yielded_; }
  // Empty partition, suffix and hash dirs removed so far.
  int64_t dirs_removed() const { return dirs_removed_; }
  // True once Next() has returned nullopt.
  bool done() const { return done_; }

  // Estimated databases in the whole pass: exact once done(); before that,
  // databases_yielded() extrapolated by partitions (yielded * listed / walked),
  // never less than databases_yielded(). -1 while nothing is known (no
  // partition walked yet). The agent's progress total comes from here, so a
  // pass walks the tree once.
  int64_t EstimatedTotal() const;

 private:
  class DatadirCursor;

  void ListAll();

  std::vector<DatadirSpec> pending_specs_;  // until ListAll()
  std::vector<std::unique_ptr<DatadirCursor>> cursors_;
  WalkErrorHandler on_error_;
  uint64_t seed_;
  size_t turn_ = 0;
  bool listed_ = false;
  bool done_ = false;
  int64_t partitions_listed_ = 0;
  int64_t partitions_walked_ = 0;
  int64_t databases_yielded_ = 0;
  int64_t dirs_removed_ = 0;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_DB_WALKER_H_
