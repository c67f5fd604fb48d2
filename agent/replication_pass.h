// ReplicationPass: Swift's Replicator.run_once. A pass walks the local
// devices (ring devices whose replication IP is this node's and whose port is
// bind_port), partitions shuffled and devices interleaved, replicates each
// database with `concurrency` workers (DbReplicator), rate-limited to
// databases_per_second, logs a progress line every progress_interval, and at
// the end logs Swift's summary, writes the recon cache and updates the
// metrics. Databases whose peer answered PEER_AT_CAPACITY are retried later
// in the same pass, with backoff, up to busy_retries times.
//
//   ReplicationPass pass(options, ring, &peers, &rsync, &metrics);
//   RETURN_IF_ERROR(pass.RunPass({}));       // one pass; Agent runs them forever
//   PassProgress p = pass.Current();         // from any thread, any time
//
// Lifecycle: RunPass must not overlap another RunPass (Agent serialises
// passes); ReplicateDb (the admin API) may run at any time, also during a
// pass: ReplicationLocks keep one database to one worker. RequestStop()
// makes a running pass finish the databases in flight and start no more.
//
// RunPass returns OK when the pass ran, even if databases failed (see the
// stats); FAILED_PRECONDITION when this node cannot find its own IPs.
// Thread-safe as described.
#ifndef DBREPL_AGENT_REPLICATION_PASS_H_
#define DBREPL_AGENT_REPLICATION_PASS_H_

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent_metrics.h"
#include "agent/db_replicator.h"
#include "dbrepl/v1/check.pb.h"
#include "agent/partition_replicator.h"
#include "common/db/state_cache.h"
#include "agent/outcome.h"
#include "agent/pass_stats.h"
#include "agent/peer_client.h"
#include "agent/progress.h"
#include "agent/replication_lock.h"
#include "agent/rsync_runner.h"
#include "common/env/env.h"
#include "common/ring/reloading_ring.h"

namespace dbrepl::agent {

// Overrides for one pass (Swift's -d/-p, once mode).
struct PassOverrides {
  std::set<std::string> devices;  // empty: all
  std::set<int64_t> partitions;   // empty: all
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

class ReplicationPass {
 public:
  // Collaborators are not owned and must outlive the pass; `metrics` may be
  // null.
  ReplicationPass(ReplicatorOptions options, ReloadingRing* ring, PeerClient* peers, RsyncRunner* rsync,
                  AgentMetrics* metrics, Env* env = Env::Default());

  absl::Status RunPass(const PassOverrides& overrides);

  // One database now (the admin API's ReplicateDb).
  DbOutcome ReplicateDb(int64_t partition, const std::string& db_file, int node_id) {
    return replicator_.ReplicateDb(partition, db_file, node_id);
  }

  // Databases whose state the agent remembers between passes.
  const StateCache& cache() const { return cache_; }

  // Asks a running pass to stop after the databases in flight (SIGTERM).
  void RequestStop() { stop_requested_ = true; }

  // The pass in progress (running) or the last one.
  PassProgress Current() const;
  PassProgress Last() const;
  int64_t passes_completed() const;

  // The ring id of local device `device`. NOT_FOUND if it is not a local
  // device of this node in the ring.
  absl::StatusOr<int> LocalDeviceId(const std::string& device) const;

  // A dry-run pass (the admin CheckPass): every database on this node's
  // devices (narrowed by `overrides`), judged as `dbreplctl check` judges it
  // from what every ring device's peer says (read-only InspectReplicas; this
  // node's own peer lists the local databases). `emit` gets each in
  // partition order and returns false to stop. Changes nothing. Errors: no
  // IP or ring device of this node; a device that cannot be asked is
  // reported in the checks (its replicas are "missing") and logged.
  absl::Status CheckLocal(const PassOverrides& overrides, const std::function<bool(const v1::DbCheck&)>& emit);

  const ReplicatorOptions& options() const { return options_; }
  StatsCollector& stats() { return stats_; }

 private:
  const ReplicatorOptions options_;
  ReloadingRing* ring_;
  PeerClient* peers_;
  AgentMetrics* metrics_;
  Env* env_;
  StatsCollector stats_;
  OutcomeRecorder recorder_;
  ReplicationLocks locks_;
  StateCache cache_;
  PostReplicate post_;
  DbReplicator replicator_;
  PartitionReplicator partitions_;
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

#endif  // DBREPL_AGENT_REPLICATION_PASS_H_
