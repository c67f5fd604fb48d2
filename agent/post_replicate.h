// PostReplicate: what Swift's container replicator does after replicating a
// container database (ContainerReplicator._post_replicate_hook) and at the
// end of a pass (replicate_reconcilers):
//
//   * the container-sync store: a container whose metadata sets both
//     X-Container-Sync-To and X-Container-Sync-Key gets a symlink
//     <device>/sync_containers/<part>/<suffix>/<hash>/<hash>.db -> its
//     database, where Swift's container-sync daemon looks; one deleted, or
//     whose values were emptied, loses it (ContainerSyncStore);
//   * the container-reconciler's queue: object rows in another policy than
//     the container's (misplaced, e.g. after replicas settled whose policy
//     wins) are queued as rows "<policy>:/<account>/<container>/<object>" in
//     the hourly container of the ".misplaced_objects" account, created on a
//     local device (a primary of its partition if there is one), from the
//     container's reconciler sync point on; the point moves up only when a
//     majority of the pushes succeeded (dump_to_reconciler);
//   * at the end of a pass, the reconciler containers fed in it are
//     replicated like any database (TakeReconcilers).
//
// Unlike Swift, a container with a single policy does not have its
// reconciler sync point rewritten after every change (a write that would
// only save a scan when a second policy appears; without it such a scan
// starts from the last point written, which is safe). Failures are logged
// and leave the point where it was: the next pass tries again.
//
// Thread-safe: AfterReplicate may run on every pass worker at once.
#ifndef DBREPL_AGENT_POST_REPLICATE_H_
#define DBREPL_AGENT_POST_REPLICATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/db/broker.h"
#include "common/hash_path.h"
#include "common/ring/reloading_ring.h"

namespace dbrepl::agent {

// Swift's MISPLACED_OBJECTS_ACCOUNT.
inline constexpr char kMisplacedObjectsAccount[] = ".misplaced_objects";

// Swift's get_reconciler_container_name: the hour (in seconds) of the row's
// last-modified (meta) time, as a decimal string. "" for a bad timestamp.
std::string ReconcilerContainerName(const std::string& created_at);

// The queue row for a misplaced object row (Swift's
// get_row_to_q_entry_translator).
ObjectRecord ReconcilerQueueRow(const ObjectRecord& misplaced, const std::string& account,
                                const std::string& container);

class PostReplicate {
 public:
  struct Options {
    std::string devices;
    int per_diff = 1000;
    HashPathConfig hash_config;
  };
  struct Reconciler {
    int64_t partition = 0;
    std::string db_file;
    int node_id = -1;
  };

  PostReplicate(Options options, ReloadingRing* ring) : options_(std::move(options)), ring_(ring) {}

  // The local devices of the pass (ring id by device name), for placing
  // reconciler containers.
  void SetLocalDevices(std::map<std::string, int> devices);

  // After the pushes of the container database `db_file` (open in
  // `broker`, `info` read in this replication): `successes` of `attempts`
  // pushes succeeded. Does nothing for an account database or a reconciler
  // container.
  void AfterReplicate(DatabaseBroker& broker, const ReplicationInfo& info, const std::string& db_file,
                      int successes, int attempts);

  // The reconciler containers fed since the last call.
  std::vector<Reconciler> TakeReconcilers();

 private:
  void UpdateSyncStore(const ReplicationInfo& info, const std::string& db_file);
  // Returns the highest ROWID all of whose misplaced rows before it were
  // queued.
  int64_t DumpToReconciler(DatabaseBroker& broker, const ReplicationInfo& info, int64_t point);
  absl::Status Feed(const std::string& container, const ItemBatch& rows);

  const Options options_;
  ReloadingRing* ring_;
  absl::Mutex mu_;
  std::map<std::string, int> local_devices_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Reconciler> reconcilers_ ABSL_GUARDED_BY(mu_);  // By container name.
  // One feed at a time: creating a reconciler container and merging into it.
  absl::Mutex feed_mu_;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_POST_REPLICATE_H_
