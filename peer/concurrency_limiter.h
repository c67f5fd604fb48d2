// ConcurrencyLimiter: admission control for the peer's RPCs. A call either
// gets a slot at once or is refused (RESOURCE_EXHAUSTED/PEER_AT_CAPACITY):
// there is never an unbounded queue of waiting calls, so an overloaded peer
// tells its senders to back off instead of piling up threads and timeouts.
//
//   auto slot = limiter.TryAcquire();
//   if (!slot.ok()) return slot.status();   // RESOURCE_EXHAUSTED
//   ... the slot is released when `slot` goes out of scope.
//
// Thread-safe.
#ifndef DBREPL_PEER_CONCURRENCY_LIMITER_H_
#define DBREPL_PEER_CONCURRENCY_LIMITER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace dbrepl::peer {

class ConcurrencyLimiter {
 public:
  class Slot {
   public:
    explicit Slot(ConcurrencyLimiter* owner) : owner_(owner) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    ConcurrencyLimiter* owner_;
  };

  explicit ConcurrencyLimiter(int max_in_flight) : max_(max_in_flight) {}

  absl::StatusOr<std::unique_ptr<Slot>> TryAcquire();
  int in_flight() const;
  int max_in_flight() const { return max_; }

 private:
  void Release();
  const int max_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_CONCURRENCY_LIMITER_H_
