// ReplicatorRpc: the receiving side of replication, with Swift's semantics
// (swift/common/db_replicator.py, class ReplicatorRpc), free of gRPC:
// PeerService validates and converts, this class decides.
//
//   ReplicatorRpc rpc(options);
//   ASSIGN_OR_RETURN(SyncResult r, rpc.Sync(located_db, remote, deadline));
//
// Every method takes a database already located and validated by DbLocator.
// A database discovered corrupt is quarantined by the broker and answered as
// NOT_FOUND/DB_QUARANTINED, so the sender ships a fresh copy.
//
// What keeps rows from being lost when several senders, Swift's own servers
// and this peer touch one database at once:
//   * a database file that exists is never replaced: RsyncThenMerge merges
//     the upload's rows into it (Swift renames a folded copy over it, and any
//     connection still open on the old file can then delete the new file's
//     live journal, taking it for a hot one); CompleteRsync installs only
//     where no database is, removing a stale journal first;
//   * every row merge (MergeItems, .pending flushes) and every install,
//     deletion or quarantine of a database happens under the hash
//     directory's .lock, and a merge first checks that its open file is
//     still the one at the path, so a merge answered OK is in the file at the
//     path;
//   * an rsynced upload is first renamed to a private name (peer/upload.h), so
//     a concurrent rsync of the same name cannot swap it after it was checked;
//   * a sync point is only raised for rows the receiver holds: CompleteRsync
//     and RsyncThenMerge record the upload's own ROWIDs for the sender, hash
//     matches use replication info read in one snapshot (common/db/broker.h).
//
// Thread-safe: each call opens its own brokers.
#ifndef DBREPL_PEER_REPLICATOR_RPC_H_
#define DBREPL_PEER_REPLICATOR_RPC_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/broker.h"
#include "common/db/policy_index.h"
#include "common/db/records.h"
#include "common/db/state_cache.h"
#include "common/db/state_refresher.h"
#include "common/env/env.h"
#include "common/env/file_ops.h"
#include "common/hash_path.h"
#include "peer/db_locator.h"
#include "peer/pending_points.h"

namespace dbrepl::peer {

// What the sender says about its copy in Sync (Swift's sync args).
struct RemoteInfo {
  int64_t max_row = -1;
  std::string hash;
  std::string id;
  std::string created_at;
  std::string put_timestamp;
  std::string delete_timestamp;
  std::string metadata;  // Raw JSON or "".
  // Container only; absent when the sender did not say (then ours stays).
  absl::optional<PolicyFacts> policy;
};

struct SyncResult {
  ReplicationInfo info;  // As read before merging the sender's metadata.
  int64_t point = -1;    // Incoming sync point for the sender.
};

// One database of a SyncPartition request (what the sender knows of it).
struct PartitionEntry {
  std::string hash;  // The database's name hash.
  std::string id;
  int64_t max_row = -1;
  std::string rows_hash;
  std::array<uint8_t, 16> state_digest{};
};

// The peer's answer for one PartitionEntry.
struct PartitionAnswer {
  enum class Presence { kUnknown, kPresent, kMissing } presence = Presence::kUnknown;
  std::string id;
  int64_t max_row = -1;
  int64_t point = -1;
  bool rows_hash_equal = false;
  bool state_equal = false;
};

struct RsyncThenMergeResult {
  std::string new_id;       // The database's id (unchanged).
  int64_t rows_folded = 0;  // Rows of the upload merged in.
};

struct ReplicatorRpcOptions {
  // The longest a call waits for a locked database (further bounded by each
  // call's deadline).
  absl::Duration busy_timeout = absl::Seconds(25);
  // How long to wait for a hash directory's .lock (Swift's 10 s).
  absl::Duration lock_timeout = absl::Seconds(10);
  // Filesystem and clock; not owned. Tests inject faults here.
  Env* env = Env::Default();
  // Databases whose replication state the peer remembers (state_cache.h).
  size_t state_cache_entries = 1 << 20;
  // Databases whose hash-match sync points may be held in memory at once
  // (PendingPoints; 210-420 bytes each); beyond, a point is written
  // at once, as Swift's Sync writes it.
  size_t max_held_points = 1 << 14;
  // The cluster's [swift-hash] secrets, if the peer has them: each state it
  // reads then carries the partition key of the database's names, and
  // ReadStates can answer the agent on this node.
  absl::optional<HashPathConfig> hash_config;
  // Merged databases whose new state may wait, with the merge's connection
  // still open, to be read into the state cache (StateRefresher); 0: none.
  size_t max_refresh_queued = 16;
};

// One database's state for ReadStates.
struct LocalState {
  absl::Status status;  // OK: `state` and `identity` hold.
  CachedState state;
  DbFileIdentity identity;
};

// One database found by InspectReplicas.
struct InspectedReplica {
  enum class State { kOk, kSharded, kUnreadable };
  int64_t partition = 0;
  std::string hash;
  State state = State::kOk;
  ReplicationInfo info;              // kOk.
  std::vector<SyncRecord> incoming;  // kOk; held points included.
  std::vector<SyncRecord> outgoing;  // kOk.
  int64_t pending_bytes = 0;         // Size of <db>.pending: rows not merged yet.
  std::string detail;                // kUnreadable: why.
};

class ReplicatorRpc {
 public:
  explicit ReplicatorRpc(ReplicatorRpcOptions options = {})
      : options_(std::move(options)),
        cache_(options_.state_cache_entries),
        points_(options_.max_held_points),
        refresher_(&cache_, options_.max_refresh_queued) {}

  // Swift's sync. Creates <device>/tmp first. NOT_FOUND/DB_NOT_FOUND when the
  // database is missing.
  absl::StatusOr<SyncResult> Sync(const LocatedDb& db, const RemoteInfo& remote, absl::Time deadline);

  // The partition handshake (see peer.proto SyncPartition). `partition` is
  // located (device checked); each entry's database is `partition` with its
  // hash. Answers from the state cache where it can; raises the incoming
  // point on a hash match as Sync does. Never fails per database: one that
  // cannot be read is kUnknown.
  absl::StatusOr<std::vector<PartitionAnswer>> SyncPartition(const LocatedDb& partition,
                                                             const std::vector<PartitionEntry>& entries,
                                                             absl::Time deadline);

  // For the agent on this node (peer.proto ReadStates): the state of each
  // database of `device` named by (partition, hash), through the state
  // cache. Per database: NOT_FOUND (DB_NOT_FOUND) if missing; INVALID_ARGUMENT
  // if a directory on its path is a symbolic link (CheckPlainPath); UNAVAILABLE
  // if the file changed while it was read, or for a sharding container
  // (never cached: the caller reads it itself); the broker's errors (a
  // corrupt database is quarantined by the read, as SyncPartition's).
  // FAILED_PRECONDITION for the whole call without hash_config.
  absl::StatusOr<std::vector<LocalState>> ReadStates(const LocatedDb& device,
                                                     const std::vector<std::pair<int64_t, std::string>>& dbs,
                                                     absl::Time deadline);

  // Read-only (dbreplctl check): every database in `partitions` (all when
  // empty) of `device`'s datadir, or only `hashes` when given, passed to
  // `emit` in name order (it returns false to stop). Nothing is written:
  // no .pending flush, no quarantine, no sync point; symlinks and entries
  // that are not Swift's layout are skipped.
  absl::Status InspectReplicas(const LocatedDb& device, const std::vector<int64_t>& partitions,
                               const std::vector<std::string>& hashes,
                               const std::function<bool(const InspectedReplica&)>& emit);

  // Writes the sync points SyncPartition raised in memory (PendingPoints)
  // that are at least `min_age` old, at most `max_databases` of them; returns
  // how many databases were written. The peer calls it in the background and
  // with a zero age at shutdown.
  int FlushPendingPoints(absl::Duration min_age, int max_databases);

  // Opens the database for a MergeItems stream. NOT_FOUND when missing. Each
  // batch is merged with DatabaseBroker::MergeItems, which refuses with
  // UNAVAILABLE/DB_REPLACED once the file at the path is another one.
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenForMerge(const LocatedDb& db, absl::Time deadline);

  // Done with a MergeItems stream that merged rows into `db` through
  // `broker`: the database's new state is read through it in the background
  // (StateRefresher), so the next handshake or ReadStates of it needs no cold
  // read. Takes the broker.
  void AfterMerge(const LocatedDb& db, std::unique_ptr<DatabaseBroker> broker);

  // What the state cache holds and has done (for the peer's metrics).
  struct CacheStats {
    uint64_t entries = 0, held_points = 0, sqlite_reads = 0, refreshed = 0;
  };
  CacheStats GetCacheStats() const {
    return CacheStats{cache_.size(), points_.size(), cache_.sqlite_reads(), refresher_.stored()};
  }

  // Test-only: the state cache's count of reads that opened SQLite, after
  // every refresh offered so far is done.
  uint64_t SqliteReadsForTesting() {
    refresher_.WaitIdleForTesting();
    return cache_.sqlite_reads();
  }

  // Swift's merge_syncs (incoming table).
  absl::Status MergeSyncs(const LocatedDb& db, const std::vector<SyncRecord>& syncs, absl::Time deadline);

  // Swift's complete_rsync: installs tmp/<tmp_name> as the database under a
  // new id, with the sender recorded as synced up to the upload's highest
  // ROWID. `db_basename` may be empty ("<hash>.db"). Returns the new id.
  // NOT_FOUND/RSYNC_PRECONDITION when the target exists or the tmp file is
  // missing; DATA_LOSS/UPLOAD_CORRUPT for an upload that is not a usable
  // Swift database of the type. With `deferred` (a batch of installs), the
  // directory fsyncs are owed to it: nothing may be answered before its
  // Flush.
  absl::StatusOr<std::string> CompleteRsync(const LocatedDb& db, const std::string& tmp_name,
                                            const std::string& db_basename, absl::Time deadline,
                                            DeferredDirSyncs* deferred = nullptr);

  // Swift's rsync_then_merge, done in place: merges the rows of
  // tmp/<tmp_name> (the sender's whole database) into the existing database
  // in batches, each raising the sender's sync point to its last ROWID, then
  // the sender's incoming syncs, metadata and timestamps. The database keeps
  // its id (Swift gives the folded copy a new one, which makes every other
  // peer start over with it). A crash leaves the database whole with part of
  // the upload merged; the sender's next pass resumes from the point.
  // NOT_FOUND/RSYNC_PRECONDITION unless both exist; UNAVAILABLE/DB_REPLACED
  // if the database was replaced meanwhile.
  absl::StatusOr<RsyncThenMergeResult> RsyncThenMerge(const LocatedDb& db, const std::string& tmp_name,
                                                      absl::Time deadline);

  // Test-only fault injection: called between the named steps of
  // CompleteRsync ("before_rename", "after_rename") and RsyncThenMerge
  // ("after_first_batch", "before_finish", "after_finish"). A crash test
  // makes it kill the process.
  void set_step_hook_for_testing(std::function<void(const std::string& step)> hook) {
    step_hook_ = std::move(hook);
  }

 private:
  BrokerOptions OptionsFor(absl::Time deadline) const;
  // Reads `db` through the state cache, with the partition key as its tag
  // when the peer has hash_config.
  absl::StatusOr<StateCache::Result> ReadState(const LocatedDb& db, absl::Time deadline);
  // The tag ReadState stores a state of a database of `type` with.
  StateRefresher::TagFn TagFor(DbType type) const;
  void Step(const std::string& name) const {
    if (step_hook_) step_hook_(name);
  }
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenExisting(const LocatedDb& db, absl::Time deadline);
  absl::Status PrepareTmpDir(const LocatedDb& db);

  const ReplicatorRpcOptions options_;
  StateCache cache_;
  PendingPoints points_;
  StateRefresher refresher_;  // After cache_: stopped before it goes.
  std::function<void(const std::string&)> step_hook_;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_REPLICATOR_RPC_H_
