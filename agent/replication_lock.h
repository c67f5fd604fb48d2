// ReplicationLocks: one database is replicated by one worker at a time,
// across the pass's workers, the admin API's ReplicateDb, and other agent
// processes on the node (a `--once` run next to the daemon, say). Two
// replications of one database at once would ship the same upload twice and
// race each other's installs on the peer.
//
//   ReplicationLocks locks(DbType::kContainer);
//   absl::StatusOr<ReplicationLocks::Held> held = locks.TryLock(device_path, hash);
//   if (!held.ok()) { /* someone else is on it: skip */ }
//
// Within the process an exact set of the databases in flight; across
// processes an open-file-description lock (F_OFD_SETLK) on one byte per
// database, at an offset taken from its hash, in
// <device>/.dbrepl-<type>-replicator.lock (one small file per device, never
// removed). The locks are released when the Held is destroyed, or by the
// kernel when the process dies.
//
// Thread-safe. TryLock never blocks: UNAVAILABLE if the database is taken.
#ifndef DBREPL_AGENT_REPLICATION_LOCK_H_
#define DBREPL_AGENT_REPLICATION_LOCK_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/db_type.h"

namespace dbrepl::agent {

class ReplicationLocks {
 public:
  explicit ReplicationLocks(DbType type) : type_(type) {}
  ~ReplicationLocks();
  ReplicationLocks(const ReplicationLocks&) = delete;
  ReplicationLocks& operator=(const ReplicationLocks&) = delete;

  class Held {
   public:
    Held(Held&& other) noexcept : locks_(other.locks_), key_(std::move(other.key_)), fd_(other.fd_), offset_(other.offset_) {
      other.locks_ = nullptr;
    }
    Held& operator=(Held&&) = delete;
    ~Held();

   private:
    friend class ReplicationLocks;
    Held(ReplicationLocks* locks, std::string key, int fd, int64_t offset)
        : locks_(locks), key_(std::move(key)), fd_(fd), offset_(offset) {}
    ReplicationLocks* locks_;
    std::string key_;
    int fd_;
    int64_t offset_;
  };

  // `device_path` is <devices>/<device>; `hash` the database's hash (32 hex
  // digits). UNAVAILABLE "being replicated" if taken here or elsewhere;
  // INTERNAL if the lock file cannot be opened.
  absl::StatusOr<Held> TryLock(const std::string& device_path, const std::string& hash);

 private:
  void Release(const std::string& key, int fd, int64_t offset);

  const DbType type_;
  absl::Mutex mu_;
  std::set<std::string> held_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> files_ ABSL_GUARDED_BY(mu_);  // device path -> lock file fd
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_REPLICATION_LOCK_H_
