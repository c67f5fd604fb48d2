// Plain data the broker layer reads and writes: rows, sync points and
// replication info, field for field as Swift's broker returns them.
#ifndef DBREPL_COMMON_DB_RECORDS_H_
#define DBREPL_COMMON_DB_RECORDS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dbrepl {

// A row of a container database's `object` table.
struct ObjectRecord {
  int64_t rowid = 0;  // Ignored on merge except as the sync point.
  std::string name;
  std::string created_at;  // Encoded "<data>[+<ctype>[+<meta>]]" timestamps.
  int64_t size = 0;
  std::string content_type;
  std::string etag;
  bool deleted = false;
  int64_t storage_policy_index = 0;
  // Write path only (PutObject, .pending entries): Swift's put_object()
  // ctype_timestamp / meta_timestamp of a POST, "" for None. MergeItems folds
  // them into created_at; rows read back never carry them.
  std::string ctype_timestamp;
  std::string meta_timestamp;
};

// A row of an account database's `container` table.
struct ContainerRecord {
  int64_t rowid = 0;
  std::string name;
  std::string put_timestamp = "0";
  std::string delete_timestamp = "0";
  int64_t object_count = 0;
  int64_t bytes_used = 0;
  bool deleted = false;
  int64_t storage_policy_index = 0;
};

// Rows of one database, ascending ROWID. Exactly one vector is used, the one
// of the database's type.
struct ItemBatch {
  std::vector<ObjectRecord> objects;
  std::vector<ContainerRecord> containers;

  size_t size() const { return objects.size() + containers.size(); }
  bool empty() const { return size() == 0; }
  // ROWID of the last row, or -1 when empty.
  int64_t last_rowid() const {
    if (!objects.empty()) return objects.back().rowid;
    if (!containers.empty()) return containers.back().rowid;
    return -1;
  }
};

struct SyncRecord {
  std::string remote_id;
  int64_t sync_point = -1;
  int64_t updated_at = 0;  // Epoch seconds; read only.
};

// Every key of Swift's get_replication_info(). Account-only and
// container-only fields keep their defaults for the other type.
struct ReplicationInfo {
  std::string account;
  std::string container;
  std::string created_at;
  std::string put_timestamp = "0";
  std::string delete_timestamp = "0";
  std::string status;
  std::string status_changed_at = "0";
  int64_t count = 0;         // Container: object_count. Account: container_count.
  int64_t object_count = 0;  // Account only.
  int64_t bytes_used = 0;
  std::string reported_put_timestamp = "0";     // Container only.
  std::string reported_delete_timestamp = "0";  // Container only.
  int64_t reported_object_count = 0;            // Container only.
  int64_t reported_bytes_used = 0;              // Container only.
  std::string hash = "00000000000000000000000000000000";
  std::string id;
  int64_t x_container_sync_point1 = -1;  // Container only.
  int64_t x_container_sync_point2 = -1;  // Container only.
  int64_t storage_policy_index = 0;
  // Container only, Swift's get_db_state(): "unsharded" ("<hash>.db" alone),
  // "sharding" (it and an epoch file "<hash>_<epoch>.db"), "sharded" or
  // "collapsed" (the epoch file alone).
  std::string db_state;
  std::string metadata;   // Raw JSON, "" for none.
  int64_t max_row = -1;
  int64_t shard_max_row = -1;  // Container only: highest shard_range ROWID.
};

// Swift's container sharding is in play: the database is sharding, sharded
// or collapsed (db_state), or has shard ranges (the sharder has been at it:
// shard_max_row >= 0). dbrepl does not replicate such a database (it would
// have to merge shard ranges and defer objects as Swift's replicator does):
// both ends leave it alone, untouched, and say so. Accounts: never.
inline bool ShardingInPlay(const ReplicationInfo& info) {
  return (!info.db_state.empty() && info.db_state != "unsharded") || info.shard_max_row >= 0;
}

// When reclaiming could next change something in a database, whatever the
// reclaim_age: the oldest tombstone, deleted-database timestamp or leftover
// tmp file (due reclaim_age later), the oldest sync row (due 2 * reclaim_age
// later: Reclaim's second cut-off), or at once (a deleted metadata key, a
// deleted shard range). A second early is harmless, so the arithmetic may
// be rough; late it must not be.
struct ReclaimClock {
  double oldest = std::numeric_limits<double>::infinity();       // Unix seconds.
  double oldest_sync = std::numeric_limits<double>::infinity();  // Unix seconds.
  bool now = false;
  // Unix seconds; 0: reclaim at once.
  double Due(double reclaim_age) const {
    if (now) return 0;
    return std::max(0.0, std::min(oldest + reclaim_age, oldest_sync + 2 * reclaim_age) - 1);
  }
};

// What a replicator needs of a database to decide what to do with it, read
// in one snapshot: the replication info, both sync tables, and the earliest
// time at which reclaiming could change anything; until then, and while the
// file is unchanged, Reclaim() and IsReclaimable() have nothing to do.
struct ReplicationState {
  ReplicationInfo info;
  std::vector<SyncRecord> incoming;
  std::vector<SyncRecord> outgoing;
  ReclaimClock reclaim;
  // Container only: policy_stat has more than one row (HasMultiplePolicies).
  bool multiple_policies = false;
};

struct MergeResult {
  int64_t rows_applied = 0;  // Rows that changed the database.
  int64_t sync_point = -1;   // Incoming sync point for the source afterwards.
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_RECORDS_H_
