// PendingPoints: incoming sync points raised on a hash match in the
// partition handshake, held in memory and written behind. Writing each one
// at once (as Swift's Sync does) costs a SQLite write transaction per
// database and sender, and every write changes the file, so the next pass
// could not answer from the state cache: on a cluster just brought into
// sync that is two writes per database per pass, for a record whose only
// use is to skip comparing hashes again. A held point is answered at once
// (PartitionAnswer.point, Sync's point) and written later by Flush, in the
// background; one lost in a crash costs a hash comparison in the next pass,
// never a row: a point only lets a sender skip rows the receiver holds.
//
// A point belongs to a database file *and its id*: a file replaced by
// another database (a new id) never inherits it.
//
//   PendingPoints points;
//   points.Raise(db_file, DbType::kContainer, db_id, sender_id, sender_max_row);
//   int64_t p = points.Get(db_file, db_id, sender_id);   // -1 if none
//   points.Flush(absl::Seconds(30), 500, open_broker);   // from a background thread
//
// Memory: 184 bytes a database in its hash table slot (210-420 with the
// table's slack), with its ids
// in Swift's form and its path in Swift's layout (a uuid and an interned
// suffix each, the path as an interned "<device>/<datadir>" prefix, the
// partition and the binary hash; anything else is kept whole, on the heap),
// and two senders' points inline.
//
// Thread-safe.
#ifndef DBREPL_PEER_PENDING_POINTS_H_
#define DBREPL_PEER_PENDING_POINTS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/broker.h"
#include "common/db/compact_id.h"

namespace dbrepl::peer {

class PendingPoints {
 public:
  // At most `max_databases` held; beyond, Raise refuses (false) and the
  // caller writes the point at once.
  explicit PendingPoints(size_t max_databases = 1 << 20) : max_(max_databases) {}

  bool Raise(const std::string& db_file, DbType type, const std::string& db_id, const std::string& remote_id,
             int64_t point);
  int64_t Get(const std::string& db_file, const std::string& db_id, const std::string& remote_id) const;
  // Every point held for `db_file` with id `db_id`: remote id -> point.
  std::map<std::string, int64_t> GetAll(const std::string& db_file, const std::string& db_id) const;

  // Writes the points held for at least `min_age`, at most `max_databases`
  // databases, each in one transaction after checking that the file still
  // has the id the points were raised for (else they are dropped). `open`
  // opens a database file. Returns how many databases were written; a
  // database whose write failed keeps its points for the next Flush.
  int Flush(absl::Duration min_age, int max_databases,
            const std::function<absl::StatusOr<std::unique_ptr<DatabaseBroker>>(const std::string&, DbType)>& open);

  size_t size() const;

 private:
  // An id: compact when it is Swift's form, else whole.
  struct Id {
    CompactId compact;
    std::unique_ptr<std::string> whole;
  };
  struct Point {
    Id remote;
    int64_t point = -1;
  };
  struct Held {
    Id db_id;
    DbType type = DbType::kContainer;
    int64_t since_ns = 0;
    // The path: "<prefix>/<partition>/<suffix>/<hash>/<hash>.db" as an
    // interned prefix (kNone: `whole_path`), the partition and the hash.
    uint16_t prefix = CompactId::kNone;
    uint32_t partition = 0;
    std::array<uint8_t, 16> hash{};
    std::unique_ptr<std::string> whole_path;
    absl::InlinedVector<Point, 2> points;
  };
  // What Flush writes: a database's points, decoded.
  struct Due {
    std::string db_file;
    DbType type;
    std::string db_id;
    int64_t since_ns;
    std::vector<SyncRecord> points;
  };
  using Key = std::pair<uint64_t, uint64_t>;  // MD5 of the path.
  static Key KeyOf(const std::string& db_file);

  // Raise, as if first held at `since_ns` (the unix time in ns).
  bool RaiseSince(const std::string& db_file, DbType type, const std::string& db_id, const std::string& remote_id,
                  int64_t point, int64_t since_ns) ABSL_LOCKS_EXCLUDED(mu_);
  Id EncodeId(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IdIs(const Id& id, const std::string& s) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string DecodeId(const Id& id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void EncodePath(const std::string& db_file, Held* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DecodePath(const Held& h) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Raises `remote_id`'s point in `h` to at least `point`.
  void RaiseIn(Held* h, const std::string& remote_id, int64_t point) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Held> held_ ABSL_GUARDED_BY(mu_);
  IdInterner ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> prefixes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_PENDING_POINTS_H_
