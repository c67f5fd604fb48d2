// StateCache: a database's replication state (ReplicationState, in compact
// form) remembered while its files are unchanged, so that a replicator learns
// that nothing needs doing from two stat(2) calls instead of opening SQLite.
//
//   StateCache cache(/*max_entries=*/1 << 20);
//   ASSIGN_OR_RETURN(StateCache::Result r, cache.Read(DbType::kContainer, db_file, broker_options));
//   const CachedState& s = r.state;
//   if (s.max_row <= s.Point(peer_id, /*incoming=*/false)) { /* in sync */ }
//
// The key is the database file's path; the entry is valid while the identity
// of the file and of its .pending (device, inode, size, mtime and ctime in
// nanoseconds; a missing .pending counts) is the one it was read at. Every
// write, by dbrepl or by Swift's servers writing the same files, changes the
// file's or the .pending's mtime or size, and a replacement its inode, so an
// entry cannot outlive the state it describes. One rule keeps that true with
// coarse file timestamps (Linux stamps files from a clock that ticks every
// few ms): an entry is only stored if both files were last modified before
// the coarse clock's value at the first stat, so any later write lands in a
// later tick and changes the mtime (git's "racily clean" rule). A state read
// while the file changed (the two stats around the read differ) is not
// stored either.
//
// Memory: 184 bytes an entry with its 16-byte key (digests of the identity
// and of timestamps and metadata, the binary hash, the id as a uuid and an
// interned suffix, max_row, reclaim clock, up to four sync points inline;
// ids not of Swift's form and more points spill to the heap), in a hash
// table kept between 7/16 and 7/8 full: 210-420 bytes a database. At
// max_entries the cache drops arbitrary entries; a dropped entry is re-read
// from SQLite on its next use. Nothing is persisted: after a
// restart the cache fills as databases are visited.
//
// Thread-safe.
#ifndef DBREPL_COMMON_DB_STATE_CACHE_H_
#define DBREPL_COMMON_DB_STATE_CACHE_H_

#include <array>
#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/db/broker.h"
#include "common/db/compact_id.h"
#include "common/db/records.h"

namespace dbrepl {

// What stat(2) says of a database file and its .pending.
struct DbFileIdentity {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
  uint64_t pending_ino = 0;  // 0: no .pending.
  int64_t pending_size = 0, pending_mtime_ns = 0;
  bool operator==(const DbFileIdentity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns &&
           pending_ino == o.pending_ino && pending_size == o.pending_size && pending_mtime_ns == o.pending_mtime_ns;
  }
  bool operator!=(const DbFileIdentity& o) const { return !(*this == o); }
};

// lstat(2) of the database file, stat(2) of its .pending. NOT_FOUND if the
// database file does not exist; FAILED_PRECONDITION if it is not a regular
// file (a symlink, say).
absl::StatusOr<DbFileIdentity> StatDbFile(const std::string& db_file);

// MD5 of created_at, put_timestamp, delete_timestamp, metadata and (when not
// 0) the storage policy index: equal digests mean a Sync would have nothing
// to merge or settle either way.
std::array<uint8_t, 16> StateDigest(const ReplicationInfo& info);

// What the cache knows of a database.
struct CachedState {
  std::string hash;  // 32 hex digits.
  std::string id;
  int64_t max_row = -1;
  std::array<uint8_t, 16> state_digest{};
  ReclaimClock reclaim;
  uint32_t tag = 0;  // The owner's (StateCache::Read's `tag`).
  // ShardingInPlay(info): such a state is never cached (Swift's sharder
  // writes the shard ranges into "<hash>.db" before it creates the epoch
  // file, so a cached state of an unsharded database is invalidated first).
  bool sharding = false;
  // Facts the container replicator's post-replicate work needs (Swift's
  // _post_replicate_hook): objects of more than one policy may be here; the
  // metadata names X-Container-Sync-To or X-Container-Sync-Key.
  bool multiple_policies = false;
  bool container_sync = false;
  // The point for `remote_id` in the incoming or outgoing table; -1 if none.
  int64_t Point(const std::string& remote_id, bool incoming) const;
  // Sync points by a 63-bit digest of the remote id, the top bit set for the
  // incoming table.
  std::vector<std::pair<uint64_t, int64_t>> points;
};

// What the cache keeps of `state` (read by a StateCache::Read), with `tag`.
CachedState CachedStateOf(const ReplicationState& state, uint32_t tag);

// The key CachedState::points uses for `remote_id`.
uint64_t SyncPointKey(const std::string& remote_id, bool incoming);

class StateCache {
 public:
  explicit StateCache(size_t max_entries = 1 << 20) : max_entries_(max_entries) {}

  struct Result {
    CachedState state;
    bool from_cache = false;
    // The broker, when SQLite had to be opened (to read, or to reclaim).
    std::unique_ptr<DatabaseBroker> broker;
    DbFileIdentity identity;
    // The state is the file's at `identity` and is (now) in the cache: from
    // the cache, or read between two stats that agree and stored under the
    // rule above. Such a state may be handed to another process on the same
    // machine (the agent's StateCache::Store).
    bool cacheable = false;
  };

  // The state of `db_file`: from the cache if its files are unchanged, else
  // opened (with `options`) and read in one snapshot (GetReplicationState)
  // and remembered when the rule above allows. `before_read`, if set, runs
  // on a freshly opened broker first (the agent reclaims there) and may
  // fail the read. `tag` is stored with a fresh entry (the agent keeps the
  // ring partition key of the database's names in it).
  // Errors are the broker's (NOT_FOUND, DATA_LOSS, ...).
  absl::StatusOr<Result> Read(DbType type, const std::string& db_file, const BrokerOptions& options,
                              const std::function<absl::Status(DatabaseBroker&)>& before_read = nullptr,
                              const std::function<uint32_t(const ReplicationInfo&)>& tag = nullptr);

  // What Refresh did.
  enum class Refreshed {
    kStored,     // The state is cached for the file's identity now.
    kNotStored,  // The file changed while read (or moved): nothing cached.
    kTooEarly,   // Modified in the current coarse tick: try after it.
  };
  // Reads the state of `db_file` through `broker`, open on that file (a
  // connection that has just written it, so its schema and pages are in
  // memory: no cold open), between two stats, and stores it under the rule
  // above. Nothing is read while the rule would refuse it (kTooEarly).
  // Errors are the broker's. Not counted in sqlite_reads().
  absl::StatusOr<Refreshed> Refresh(const std::string& db_file, DatabaseBroker& broker,
                                    const std::function<uint32_t(const ReplicationInfo&)>& tag = nullptr);

  // The first half of Read: the file's identity now, and its state if the
  // cache has it for that identity (from_cache). No SQLite. Errors are
  // StatDbFile's.
  absl::StatusOr<Result> Lookup(const std::string& db_file);

  // The cached state if `identity` is still the one it was read at.
  absl::optional<CachedState> Get(const std::string& db_file, const DbFileIdentity& identity);
  // Stores `state`, read between two stats that both gave `identity`, the
  // first at coarse time `coarse_before_ns`. Refused (false) if the rule
  // above does not allow it.
  bool Put(const std::string& db_file, const DbFileIdentity& identity, int64_t coarse_before_ns,
           const ReplicationState& state, uint32_t tag);
  // Stores `state`, which another StateCache on this machine had for the
  // same file at `identity` (Result::cacheable: read under the rule above).
  // Refused (false) for a sharding state or a hash that is not 32 hex
  // digits, which are never cached.
  bool Store(const std::string& db_file, const DbFileIdentity& identity, const CachedState& state);
  void Erase(const std::string& db_file);
  size_t size() const;
  // How many Reads opened SQLite (the cache had nothing current).
  uint64_t sqlite_reads() const { return sqlite_reads_.load(std::memory_order_relaxed); }

  // CLOCK_REALTIME_COARSE in ns: the clock file timestamps come from.
  static int64_t CoarseNowNs();

  static constexpr uint8_t kMultiplePolicies = 1, kContainerSync = 2, kReclaimNow = 4;
  static constexpr int kInlinePoints = 4;

 private:
  // The compact form (see the memory note above).
  struct Entry {
    std::array<uint8_t, 16> identity{};  // MD5 of the DbFileIdentity read at.
    std::array<uint8_t, 16> hash{};
    std::array<uint8_t, 16> state_digest{};
    int64_t max_row = -1;
    double reclaim_oldest = 0, reclaim_oldest_sync = 0;  // ReclaimClock; its `now` is a flag.
    uint32_t tag = 0;
    CompactId id;       // Swift's id forms; others in overflow.
    uint8_t n_points = 0;
    uint8_t flags = 0;  // kMultiplePolicies | kContainerSync | kReclaimNow.
    std::pair<uint64_t, int64_t> points[kInlinePoints];
    // An id that is not Swift's form, and points beyond kInlinePoints.
    struct Overflow {
      std::string id;
      std::vector<std::pair<uint64_t, int64_t>> points;
    };
    std::unique_ptr<Overflow> overflow;
  };
  using Key = std::pair<uint64_t, uint64_t>;
  static Key KeyOf(const std::string& db_file);
  // Stores `e` for `db_file`, with its id encoded (or kept whole).
  void Insert(const std::string& db_file, Entry e, const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);
  // Fills `e` from `state` (all but the id); false if the hash is not 32
  // hex digits.
  bool Fill(const CachedState& state, Entry* e) const;

  const size_t max_entries_;
  std::atomic<uint64_t> sqlite_reads_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  IdInterner ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_STATE_CACHE_H_
