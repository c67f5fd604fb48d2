// Replicator: Swift's db_replicator.Replicator, the sending side. For every
// local database it makes Swift's decisions, in Swift's order, because they
// are what keeps data from being lost (reference §1.5, Appendix A):
//
//   reclaim -> replication info -> misplaced? -> reclaimable deleted db?
//   -> for each peer ("next after me first"; handoffs on DEVICE_UNAVAILABLE):
//        Sync -> no_change | hashmatch | usync (MergeItems stream + MergeSyncs)
//             | rsync + CompleteRsync (peer lacks it)
//             | rsync + RsyncThenMerge (peer < half as far and > per_diff behind)
//   -> handoff / misplaced cleanup (handoff_delete, single-replica rule)
//
// and counts what it did in Swift's stats. RunPass() is Swift's run_once: it
// walks the local devices round-robin with `concurrency` databases in flight
// (rate-limited to databases_per_second), logs progress at a steady interval,
// and reports the summary, the recon cache and metrics at the end.
//
// Thread-safety: ReplicateDb may run concurrently (RunPass does); RunPass
// itself must not overlap another RunPass (Agent serialises passes). Status()
// is safe at any time.
#ifndef DBREPL_AGENT_REPLICATOR_H_
#define DBREPL_AGENT_REPLICATOR_H_

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/agent_metrics.h"
#include "agent/pass_stats.h"
#include "agent/peer_client.h"
#include "agent/progress.h"
#include "agent/rsync_runner.h"
#include "common/db/broker.h"
#include "common/db_type.h"
#include "common/hash_path.h"
#include "common/ring/reloading_ring.h"

namespace dbrepl::agent {

struct ReplicatorOptions {
  DbType type = DbType::kContainer;
  std::string devices = "/srv/node";
  bool mount_check = true;
  std::string bind_ip = "0.0.0.0";
  int bind_port = 6201;
  int concurrency = 8;
  int per_diff = 1000;
  int max_diffs = 100;
  absl::Duration node_timeout = absl::Seconds(10);
  double reclaim_age = 604800;
  bool handoffs_only = false;
  int handoff_delete = 0;  // 0: all replicas must succeed ("auto").
  double databases_per_second = 50;
  std::string recon_cache_path = "/var/cache/swift";
  HashPathConfig hash_config;
  absl::Duration progress_interval = absl::Seconds(30);
};

// What happened with one peer for one database.
struct NodeOutcome {
  RingNode node;
  bool success = false;
  // no_change, hashmatch, diff, diff_capped, rsync, remote_merge,
  // device_unavailable, error.
  std::string action;
  std::string detail;
  int64_t rows_sent = 0;
};

struct DbOutcome {
  bool success = false;
  std::vector<NodeOutcome> peers;
  // "", "removed" (handoff/misplaced db deleted), "reclaimed" (deleted db
  // past reclaim_age), "quarantined", "error", "kept" (should not be here
  // but not deleted).
  std::string local_action;
  int64_t ring_partition = -1;
};

// Overrides for one pass (Swift's -d/-p, once mode).
struct PassOverrides {
  std::set<std::string> devices;     // empty: all
  std::set<int64_t> partitions;      // empty: all
};

// Progress and result of a pass, for the admin API.
struct PassProgress {
  bool running = false;
  double start_time = 0;
  double end_time = 0;
  int64_t databases_total = 0;
  int64_t databases_done = 0;
  bool listing_done = false;
  PassStats stats;
  bool succeeded = false;
};

class Replicator {
 public:
  Replicator(ReplicatorOptions options, ReloadingRing* ring, PeerClient* peers, RsyncRunner* rsync,
             AgentMetrics* metrics);

  // Swift's _replicate_object for one local database.
  DbOutcome ReplicateDb(int64_t partition, const std::string& db_file, int node_id);

  // Swift's run_once. Returns OK if the pass ran (even if some databases
  // failed: see the stats); FAILED_PRECONDITION when this node cannot find
  // itself (no IPs).
  absl::Status RunPass(const PassOverrides& overrides);

  // Asks a running pass to stop after the databases in flight (SIGTERM):
  // no new database is started. The pass reports what it did.
  void RequestStop() { stop_requested_ = true; }

  // The pass in progress (running) or the last one.
  PassProgress Current() const;
  PassProgress Last() const;
  int64_t passes_completed() const;

  // Finds a local database by device/partition/hash for ReplicateDb requests:
  // returns the ring id of the local device. NOT_FOUND if not local.
  absl::StatusOr<int> LocalDeviceId(const std::string& device) const;

  const ReplicatorOptions& options() const { return options_; }
  StatsCollector& stats() { return stats_; }

 private:
  struct PeerCall;
  bool ReplToNode(const RingNode& node, DatabaseBroker& broker, int64_t partition, const ReplicationInfo& info,
                  bool different_region, NodeOutcome* outcome, bool* device_unavailable);
  bool ChooseReplicationMode(const RingNode& node, const v1::SyncResponse& rinfo, const ReplicationInfo& info,
                             int64_t local_sync, DatabaseBroker& broker, int64_t partition, bool different_region,
                             NodeOutcome* outcome);
  bool Usync(int64_t point, const RingNode& node, DatabaseBroker& broker, int64_t partition,
             const std::string& remote_id, const std::string& local_id, NodeOutcome* outcome);
  bool RsyncDb(DatabaseBroker& broker, const RingNode& node, int64_t partition, const std::string& local_id,
               bool then_merge, absl::Duration timeout, bool different_region, NodeOutcome* outcome);
  bool CleanupPostReplicate(std::unique_ptr<DatabaseBroker>& broker, const ReplicationInfo& orig_info,
                            const std::vector<bool>& responses, const std::string& device);
  v1::DbRef RefFor(const RingNode& node, int64_t partition, const std::string& hash) const;
  PeerAddress AddressOf(const RingNode& node) const;
  void AddFailureForPrimaries(const Ring& ring, int64_t partition);
  std::string LogPrefix(const std::string& db_file, const RingNode* node) const;

  const ReplicatorOptions options_;
  ReloadingRing* ring_;
  PeerClient* peers_;
  RsyncRunner* rsync_;
  AgentMetrics* metrics_;
  StatsCollector stats_;
  // Done/total of the running pass; PassProgress counts are derived from it.
  ProgressReporter progress_;
  std::atomic<bool> stop_requested_{false};

  mutable absl::Mutex mu_;
  PassProgress current_ ABSL_GUARDED_BY(mu_);
  PassProgress last_ ABSL_GUARDED_BY(mu_);
  int64_t passes_completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> local_device_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_REPLICATOR_H_
