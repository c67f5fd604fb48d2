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
// Thread-safe.
#ifndef DBREPL_PEER_PENDING_POINTS_H_
#define DBREPL_PEER_PENDING_POINTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/broker.h"

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
  struct Held {
    DbType type;
    std::string db_id;
    std::map<std::string, int64_t> points;  // remote id -> point
    absl::Time since;
  };
  const size_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Held> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_PENDING_POINTS_H_
