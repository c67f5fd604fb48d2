// The replicator's decisions, as pure functions: who to push a database to,
// how, and whether a database that should not be here may be removed. They
// are Swift's (swift/common/db_replicator.py, Replicator._replicate_object,
// _in_sync, _choose_replication_mode, _repl_to_node, cleanup_post_replicate)
// because they are what keeps rows from being lost; the driver
// (db_replicator.h) carries them out, and tests read as tables: "given this,
// choose that".
//
// Thread-safe: pure functions.
#ifndef DBREPL_COMMON_REPLICATION_PLAN_H_
#define DBREPL_COMMON_REPLICATION_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/ring/ring.h"

namespace dbrepl {

// The nodes a database in `partition` is pushed to from local device
// `local_id`, in order. A primary pushes to the other primaries starting
// with the one after itself (so the primaries do not all hit the same node
// first); a handoff (local_id not a primary) pushes to every primary in ring
// order. A single-replica ring keeps its one node even when it is this
// device: a misplaced database is then pushed to its right partition on this
// same device before it is removed (Swift bug 1568591).
std::vector<RingNode> PushTargets(const std::vector<RingNode>& primaries, int local_id);

// True if `candidate` may stand in for an unavailable target: any handoff but
// this database's own device (a push to itself would "succeed" and count as
// a copy that does not exist).
bool UsableHandoff(const RingNode& candidate, int local_id, bool same_partition);

// What Sync told the sender, and what the sender knows: enough to choose.
struct SyncFacts {
  int64_t local_max_row = -1;
  std::string local_hash;
  // The sender's outgoing sync point for the peer's id (-1 if none).
  int64_t local_point = -1;
  // The peer's incoming sync point for the sender's id (-1 if none).
  int64_t remote_point = -1;
  int64_t remote_max_row = -1;
  std::string remote_hash;
};

enum class Mode {
  kNoChange,        // The peer has every row (Swift's _in_sync).
  kHashmatch,       // Same rows; only the sync point is recorded.
  kRsyncThenMerge,  // The peer is far behind: ship the file, merge there.
  kUsync,           // Stream the rows after `usync_from`.
};

struct ModeChoice {
  Mode mode;
  int64_t usync_from = -1;  // kUsync: the first row sent is the one after this.
};

// Swift's order: in sync (max of both points >= local max_row) beats a hash
// match, which beats rsync_then_merge (the peer has less than half as many
// rows and is more than per_diff behind), which beats usync.
ModeChoice ChooseMode(const SyncFacts& facts, int per_diff);

// How long to allow a peer's RsyncThenMerge: count / 2000 rows a second, at
// least node_timeout (Swift's replicate_timeout heuristic).
absl::Duration RsyncThenMergeTimeout(int64_t row_count, absl::Duration node_timeout);

// May a database that should not be on this device be removed after its
// pushes? Only if no row arrived meanwhile (max_row unchanged and nothing
// pending) and either every push succeeded or, with handoff_delete > 0, at
// least that many did. `reason` says why not, for the log.
struct RemovalChoice {
  bool remove = false;
  std::string reason;
};
RemovalChoice ChooseRemoval(int64_t max_row_before, int64_t max_row_now, bool pending_rows,
                            const std::vector<bool>& push_succeeded, int handoff_delete);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_REPLICATION_PLAN_H_
