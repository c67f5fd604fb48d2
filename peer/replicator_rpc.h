// ReplicatorRpc: the receiving side of replication, with Swift's semantics
// (swift/common/db_replicator.py ReplicatorRpc; reference §1.3-1.4), free of
// gRPC: PeerService validates and converts, this class decides.
//
//   ReplicatorRpc rpc(options);
//   ASSIGN_OR_RETURN(SyncResult r, rpc.Sync(located_db, remote));
//
// Every method takes a database already located and validated by DbLocator.
// A database discovered corrupt is quarantined by the broker and answered as
// NOT_FOUND/DB_QUARANTINED, so the sender ships a fresh copy.
//
// Thread-safe: each call opens its own brokers. Concurrent calls on one
// database serialise on SQLite's locks (busy-retried until the deadline).
#ifndef DBREPL_PEER_REPLICATOR_RPC_H_
#define DBREPL_PEER_REPLICATOR_RPC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/broker.h"
#include "common/db/records.h"
#include "peer/db_locator.h"

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
};

struct SyncResult {
  ReplicationInfo info;  // As read before merging the sender's metadata.
  int64_t point = -1;    // Incoming sync point for the sender.
};

struct RsyncThenMergeResult {
  std::string new_id;
  int64_t rows_folded = 0;
};

class ReplicatorRpc {
 public:
  // `busy_timeout`: the longest a call waits for a locked database (further
  // bounded by each call's deadline).
  explicit ReplicatorRpc(absl::Duration busy_timeout = absl::Seconds(25)) : busy_timeout_(busy_timeout) {}

  // Swift's sync. Creates <device>/tmp first. NOT_FOUND/DB_NOT_FOUND when the
  // database is missing.
  absl::StatusOr<SyncResult> Sync(const LocatedDb& db, const RemoteInfo& remote, absl::Time deadline);

  // Opens the database for a MergeItems stream. NOT_FOUND when missing.
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenForMerge(const LocatedDb& db, absl::Time deadline);

  // Swift's merge_syncs (incoming table).
  absl::Status MergeSyncs(const LocatedDb& db, const std::vector<SyncRecord>& syncs, absl::Time deadline);

  // Swift's complete_rsync. `db_basename` may be empty ("<hash>.db").
  // Returns the new id. NOT_FOUND/RSYNC_PRECONDITION when the target exists or
  // the tmp file is missing.
  absl::StatusOr<std::string> CompleteRsync(const LocatedDb& db, const std::string& tmp_name,
                                            const std::string& db_basename, absl::Time deadline);

  // Swift's rsync_then_merge. NOT_FOUND/RSYNC_PRECONDITION unless both the tmp
  // file and the database exist. The swap is a single rename done while the
  // existing database is locked against writers, after a final catch-up of
  // rows written during the fold, so no row is lost and a crash leaves either
  // the old or the new database whole.
  absl::StatusOr<RsyncThenMergeResult> RsyncThenMerge(const LocatedDb& db, const std::string& tmp_name,
                                                      absl::Time deadline);

  // Test-only fault injection: called between the named steps of
  // CompleteRsync/RsyncThenMerge ("before_rename", ...). A crash test makes it
  // kill the process.
  void set_step_hook_for_testing(std::function<void(const std::string& step)> hook) {
    step_hook_ = std::move(hook);
  }

 private:
  BrokerOptions OptionsFor(absl::Time deadline) const;
  void Step(const std::string& name) const {
    if (step_hook_) step_hook_(name);
  }
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> OpenExisting(const LocatedDb& db, const std::string& file,
                                                               absl::Time deadline);

  const absl::Duration busy_timeout_;
  std::function<void(const std::string&)> step_hook_;
};

// Folds every row of `from` with ROWID > `point` into `to` (no source), in
// batches; returns the last ROWID folded (or `point` if none) and adds the
// row count to `*rows`.
absl::StatusOr<int64_t> FoldRows(DatabaseBroker& from, DatabaseBroker& to, int64_t point, int64_t* rows);

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_REPLICATOR_RPC_H_
