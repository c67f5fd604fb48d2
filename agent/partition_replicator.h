// PartitionReplicator: replicates the databases of one partition of one
// local device. What is in sync costs no SQLite and one round trip per peer:
// each database's state comes from the StateCache while its files are
// unchanged (on a miss, from this node's peer, which reads it for both;
// from SQLite if the peer cannot say), and one SyncPartitions call per peer
// device compares them all,
// for every partition of the chunk that has replicas there.
// A database a peer answers for as in sync (its point or ours covers our
// max_row, and timestamps and metadata are equal) is Swift's no_change; as
// equal rows, its hashmatch (the peer has raised its point; we record ours).
// A database a peer lacks is shipped with the others it lacks: one rsync
// run per peer device for the chunk's files (under their database ids, into
// the peer's <device>/tmp/, Swift's layout), then one CompleteRsyncBatch; a file
// that changed while it was copied is copied again with writers locked out,
// as a single file would be. Everything else takes Swift's per-database path
// (DbReplicator): a peer that differs, cannot say, is unreachable or
// unmounted, and every database that is misplaced, on a handoff, due for
// reclaim, or unreadable.
// The decisions are Swift's either way; only how "nothing to do" is learned
// changes.
//
//   PartitionReplicator p(options, ring, peers, &db_replicator, &recorder, &locks, &cache);
//   std::vector<DbOutcome> outcomes = p.Replicate(chunk);  // whole partitions
//
// Thread-safe: partitions may be replicated concurrently (a database is one
// worker's at a time through ReplicationLocks).
#ifndef DBREPL_AGENT_PARTITION_REPLICATOR_H_
#define DBREPL_AGENT_PARTITION_REPLICATOR_H_

#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"

#include "agent/db_replicator.h"
#include "agent/db_walker.h"
#include "agent/outcome.h"
#include "agent/peer_client.h"
#include "agent/replication_lock.h"
#include "agent/rsync_runner.h"
#include "common/db/state_cache.h"
#include "common/env/env.h"
#include "common/ring/reloading_ring.h"

namespace dbrepl::agent {

class PartitionReplicator {
 public:
  PartitionReplicator(const ReplicatorOptions& options, ReloadingRing* ring, PeerClient* peers, RsyncRunner* rsync,
                      DbReplicator* per_db, OutcomeRecorder* recorder, ReplicationLocks* locks, StateCache* cache,
                      Env* env = Env::Default());

  // `items` are a chunk: the databases of one or more partitions (each
  // partition's items together, as DbWalker::NextPartition returns them).
  // One outcome per item, in order.
  std::vector<DbOutcome> Replicate(const std::vector<WalkItem>& items);

  // As Replicate, but what takes the per-database path is left to the
  // caller: those items' indexes are appended to `per_db`, their outcomes
  // left default, so that the caller can spread them over its workers (each
  // costs round trips and perhaps an rsync of its own).
  std::vector<DbOutcome> ReplicateFastPath(const std::vector<WalkItem>& items, std::vector<size_t>* per_db);

 private:
  struct Candidate;
  struct Group;
  struct Batch;
  // What the state cache and the node's peer said of a chunk's items, per
  // item: the cached state (looked up once, used by Gather), or why the
  // peer found the database corrupt (and quarantined it).
  struct LocalStates {
    std::vector<absl::optional<StateCache::Result>> cached;
    std::vector<std::string> corrupt;
  };
  // Looks the chunk's primary items up in the cache, and asks this node's
  // peer (ReadStates) for the states of those it has none for (the peer's
  // read then serves both: one read per database per node). Best effort:
  // what neither knows, Gather reads from SQLite.
  LocalStates ReadStatesFromLocalPeer(const std::vector<WalkItem>& items, const Ring& ring);
  // Items [begin, end) (one partition): reads their states and adds the
  // fast-path candidates and a group (nothing is asked yet).
  // `local`: ReadStatesFromLocalPeer's answer (its cached states are
  // moved out).
  void Gather(const std::vector<WalkItem>& items, size_t begin, size_t end, const Ring& ring, LocalStates* local,
              std::vector<Group>* groups, std::vector<Candidate>* candidates, std::vector<DbOutcome>* outcomes,
              std::vector<bool>* done);
  // The handshake: one SyncPartitions per peer device for every group with
  // replicas there; sets each candidate's result per target, or fallback.
  void Handshake(const std::vector<WalkItem>& items, const std::vector<Group>& groups,
                 std::vector<Candidate>* candidates);
  // One group's answer from target `t`.
  void Apply(size_t t, const std::vector<Candidate*>& asked, const v1::SyncPartitionResponse& resp);
  // Ships `batch` (candidates one peer device lacks) and installs them; sets
  // each member's result for its target.
  void Ship(const std::vector<WalkItem>& items, Batch& batch);

  const ReplicatorOptions& options_;
  ReloadingRing* ring_;
  PeerClient* peers_;
  RsyncRunner* rsync_;
  DbReplicator* per_db_;
  OutcomeRecorder* recorder_;
  ReplicationLocks* locks_;
  StateCache* cache_;
  Env* env_;
  const std::string hash_path_check_;  // HashPathCheck(options_.hash_config).
  // Local peers (by address) that refused ReadStates as a whole (no such
  // RPC, other [swift-hash] secrets): not asked again by this process.
  absl::Mutex mu_;
  std::set<std::string> without_read_states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_PARTITION_REPLICATOR_H_
