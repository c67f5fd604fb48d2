// DbReplicator: replicates one local database (Swift's
// Replicator._replicate_object), carrying out the decisions of
// common/replication/plan.h in Swift's order:
//
//   reclaim -> replication info -> misplaced? -> reclaimable deleted db?
//   -> for each target (PushTargets; a handoff for each DEVICE_UNAVAILABLE):
//        Sync -> no_change | hashmatch | usync (MergeItems stream + MergeSyncs)
//             | rsync + CompleteRsync (peer lacks it)
//             | rsync + RsyncThenMerge (peer far behind)
//   -> removal of a handoff/misplaced copy (ChooseRemoval, checked again
//      under the hash directory's lock)
//
// and reports it through OutcomeRecorder (stats, metrics, log). A database
// another worker or agent process is replicating is skipped (LocalAction
// kBusy). A whole file is only shipped as a consistent copy: if the file
// changed while rsync read it (FileStamp), a second rsync runs with writers
// locked out.
//
// Lifecycle: construct with its collaborators (not owned; they must outlive
// it). ReplicateDb may be called from any number of threads at once.
#ifndef DBREPL_AGENT_DB_REPLICATOR_H_
#define DBREPL_AGENT_DB_REPLICATOR_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agent/outcome.h"
#include "agent/peer_client.h"
#include "agent/post_replicate.h"
#include "agent/replication_lock.h"
#include "agent/rsync_runner.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"
#include "common/db_type.h"
#include "common/env/env.h"
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
  // Databases whose replication state is remembered between passes (about
  // 184 bytes each and the hash table's slack; see common/db/state_cache.h).
  size_t state_cache_entries = 1 << 20;
  // Retries of a database whose peer was at capacity, later in the pass.
  // A pass worker takes whole partitions until it holds this many
  // databases; what a peer device lacks among them goes in one rsync.
  int batch_databases = 64;
  // On a state cache miss, ask the node's own peer (ReadStates) first.
  bool states_from_peer = true;
  int busy_retries = 3;
  absl::Duration busy_backoff = absl::Milliseconds(500);
};

// "<ip>:<port>/<device>" for log lines.
std::string NodeName(const RingNode& node);
// The database hash from its file name: "<hash>.db" or "<hash>_<epoch>.db".
std::string HashOf(const std::string& db_file);
// <devices>/<device> of a database file under `devices`.
std::string DeviceDirOf(const std::string& devices, const std::string& db_file);
// The log prefix of a database ("container sdb1/12/<hash>: ", with the peer).
std::string DbLogPrefix(DbType type, const std::string& devices, const std::string& db_file, const RingNode* node);

class DbReplicator {
 public:
  DbReplicator(const ReplicatorOptions& options, ReloadingRing* ring, PeerClient* peers, RsyncRunner* rsync,
               OutcomeRecorder* recorder, ReplicationLocks* locks, Env* env = Env::Default());

  // Replicates `db_file`, found in `partition` on the local ring device
  // `node_id`. Never fails as a call: what went wrong is in the outcome.
  DbOutcome ReplicateDb(int64_t partition, const std::string& db_file, int node_id);

  // A usync of `db_file` to `node` from row `from` (Swift's _usync_db), for
  // a caller that learned from the partition handshake that this is the
  // mode (the same facts Sync would have given). Opens the database; fails
  // (kError) if its id is no longer `expected_id`. The caller holds the
  // database's replication lock. `read_identity` (if set): the files'
  // identity when `expected_id` was read; while it holds, the id is not
  // read again.
  NodeOutcome UsyncTo(const RingNode& node, const std::string& db_file, int64_t partition, int64_t from,
                      const std::string& remote_id, const std::string& expected_id,
                      const DbFileIdentity* read_identity = nullptr);

  // Swift's post-replicate work (container-sync store, reconciler queue),
  // run after a container database's pushes; null (the default): none.
  // Set before any ReplicateDb.
  void set_post_replicate(PostReplicate* post) { post_ = post; }
  PostReplicate* post_replicate() const { return post_; }

 private:
  PostReplicate* post_ = nullptr;
  struct Local;
  NodeOutcome PushToNode(const RingNode& node, Local& local, int64_t partition, bool different_region);
  NodeOutcome Usync(const RingNode& node, Local& local, int64_t partition, int64_t from, const std::string& remote_id);
  NodeOutcome Rsync(const RingNode& node, Local& local, int64_t partition, bool then_merge,
                    bool different_region);
  // Removes a copy that should not be here if ChooseRemoval allows. False
  // only when the removal itself failed (Swift's cleanup_post_replicate).
  bool RemoveIfUnneeded(Local& local, const std::vector<bool>& pushes, DbOutcome* out);
  v1::DbRef RefFor(const RingNode& node, int64_t partition, const std::string& hash) const;
  std::string LogPrefix(const std::string& db_file, const RingNode* node) const {
    return DbLogPrefix(options_.type, options_.devices, db_file, node);
  }

  const ReplicatorOptions& options_;
  ReloadingRing* ring_;
  PeerClient* peers_;
  RsyncRunner* rsync_;
  OutcomeRecorder* recorder_;
  ReplicationLocks* locks_;
  Env* env_;
};


}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_DB_REPLICATOR_H_
