// Replication pass statistics: Swift's Replicator.stats dict, the summary it
// logs at the end of a pass, and the "replication_stats" recon entry.
//
//   StatsCollector stats;
//   stats.Reset(NowSeconds());                       // Swift's _zero_stats()
//   stats.Add(StatField::kAttempted);                // from many threads
//   stats.AddFailure("10.0.0.2", "sdb");             // _add_failure_stats()
//   PassStats s = stats.Snapshot();
//   for (const std::string& line : SummaryLines(s, NowSeconds() - s.start)) LOG(INFO) << line;
//   RETURN_IF_ERROR(WriteReplicationRecon(recon_dir, type, s, NowSeconds()));  // recon_cache.h
//
// Meaning of each counter (Swift's Replicator._zero_stats and its callers in
// swift/common/db_replicator.py): attempted = DBs started; success = peers
// synced; failure = failed (ip, device) pairs, also counted per pair in
// failure_nodes; no_change / hashmatch = already in sync; rsync = peer lacked
// the DB (complete_rsync); remote_merge = rsync_then_merge; diff = usync runs;
// diff_capped = usync stopped at max_diffs; remove = DBs deleted; deferred =
// sharding deferral; empty and ts_repl are never incremented (kept because
// Swift reports them). quarantined, skipped_devices and skipped_sharded
// (databases, local or at a peer, left alone because Swift's sharding is in
// play; see ShardingInPlay) are dbrepl additions, not written to recon.
//
// StatsCollector is thread-safe; the free functions are pure.
#ifndef DBREPL_AGENT_PASS_STATS_H_
#define DBREPL_AGENT_PASS_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace dbrepl::agent {

struct PassStats {
  int64_t attempted = 0, success = 0, failure = 0, no_change = 0, hashmatch = 0, rsync = 0, diff = 0,
          diff_capped = 0, remote_merge = 0, remove = 0, empty = 0, ts_repl = 0, deferred = 0;
  // dbrepl additions.
  int64_t quarantined = 0, skipped_devices = 0, skipped_sharded = 0;
  // replication ip -> device -> failures.
  std::map<std::string, std::map<std::string, int64_t>> failure_nodes;
  double start = 0;  // Unix seconds when the pass began
};

enum class StatField {
  kAttempted,
  kSuccess,
  kFailure,
  kNoChange,
  kHashmatch,
  kRsync,
  kDiff,
  kDiffCapped,
  kRemoteMerge,
  kRemove,
  kEmpty,
  kTsRepl,
  kDeferred,
  kQuarantined,
  kSkippedDevices,
  kSkippedSharded,
};

// Swift's key for the field ("no_change", "diff_capped", ...); dbrepl's
// additions are "quarantined", "skipped_devices" and "skipped_sharded".
absl::string_view StatFieldName(StatField field);

class StatsCollector {
 public:
  StatsCollector() = default;
  StatsCollector(const StatsCollector&) = delete;
  StatsCollector& operator=(const StatsCollector&) = delete;

  // Zeroes every counter and failure_nodes; records the pass start.
  void Reset(double start_time);
  // Adds `n` to one counter. Adding to kFailure does not touch failure_nodes;
  // use AddFailure for a failed peer.
  void Add(StatField field, int64_t n = 1);
  // One failed (replication ip, device): failure += 1 and
  // failure_nodes[ip][device] += 1.
  void AddFailure(const std::string& ip, const std::string& device);
  PassStats Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  PassStats stats_ ABSL_GUARDED_BY(mu_);
};

// Swift's _report_stats() info lines, in order:
//   "Attempted to replicate 2 dbs in 1.25000 seconds (1.60000/s)"
//   "Removed 0 dbs"
//   "4 successes, 1 failures"
//   "diff:0 diff_capped:0 empty:0 hashmatch:0 no_change:2 remote_merge:0 rsync:0 ts_repl:0"
// The rate is attempted / (elapsed + 1e-7), as Swift computes it.
std::vector<std::string> SummaryLines(const PassStats& s, double elapsed);

// The "replication_stats" dict, with exactly Swift's keys: attempted,
// deferred, diff, diff_capped, empty, failure, failure_nodes, hashmatch,
// no_change, remote_merge, remove, rsync, start (a float), success, ts_repl.
// failure_nodes is {} when there were no failures (dump_recon_cache then
// drops it from the file, as Swift does).
nlohmann::json ReplicationStatsJson(const PassStats& s);

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_PASS_STATS_H_
