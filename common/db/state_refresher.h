// StateRefresher: after a write, the database's new replication state is
// read through the writer's own connection, on a background thread, and
// stored in a StateCache, so the next reader (the partition handshake of the
// node that replicates next, the agent on this node) finds it cached instead
// of opening SQLite cold.
//
//   StateRefresher refresher(&cache, /*max_queued=*/16);
//   ... merge rows through `broker` ...
//   refresher.Offer(db_file, std::move(broker), tag);
//
// The cache's rule decides what is stored (state_cache.h): the state is read
// between two stats once the coarse clock has moved past the file's last
// modification, and a file written by anyone meanwhile is simply not cached.
// A refresh is an optimisation only: one dropped (queue full, stopped, the
// file changed) costs a cold read later, never a wrong state.
//
// Memory: at most `max_queued` open brokers (a connection and its page
// cache each); an offer beyond that is refused and its broker closed.
//
// Thread-safe. The destructor stops the thread; brokers still queued are
// closed unread.
#ifndef DBREPL_COMMON_DB_STATE_REFRESHER_H_
#define DBREPL_COMMON_DB_STATE_REFRESHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"

namespace dbrepl {

class StateRefresher {
 public:
  using TagFn = std::function<uint32_t(const ReplicationInfo&)>;

  // `cache` must outlive this object. `max_queued` 0 refuses every offer.
  StateRefresher(StateCache* cache, size_t max_queued);
  ~StateRefresher();
  StateRefresher(const StateRefresher&) = delete;
  StateRefresher& operator=(const StateRefresher&) = delete;

  // Takes `broker`, open on `db_file` and done writing it. False (and the
  // broker closed) if the queue is full.
  bool Offer(std::string db_file, std::unique_ptr<DatabaseBroker> broker, TagFn tag);

  // How many refreshes stored a state.
  uint64_t stored() const;

  // Blocks until every offer made before the call has been dealt with.
  void WaitIdleForTesting();

 private:
  struct Item {
    std::string db_file;
    std::unique_ptr<DatabaseBroker> broker;
    TagFn tag;
  };
  void Run();
  // Refreshes `item`, waiting (briefly) for the coarse tick it was written in.
  void Refresh(Item& item);

  StateCache* const cache_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t stored_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_STATE_REFRESHER_H_
