// RateLimiter: Swift's RateLimitedIterator (EventletRateLimiter underneath),
// which caps how many databases per second a replication pass starts
// (databases_per_second, default 50) so that a pass over millions of in-sync
// DBs does not peg a CPU.
//
//   RateLimiter limiter(config.databases_per_second);
//   while (auto item = walker.Next()) {
//     limiter.Wait();
//     pool.Schedule(*item);
//   }
//
// Arithmetic, as Swift's AbstractRateLimiter.is_allowed(block=True):
//   * each call is granted a slot `running_time`; slots are 1/per_second apart;
//   * if `now` is more than `rate_buffer` past the next slot (idle), the slot
//     resets to `now` (the burst allowance is lost after idling);
//   * if `now` is at or past the slot the call returns at once; otherwise it
//     sleeps until the slot. Either way the next slot moves 1/per_second on.
//   So after a short stall (less than rate_buffer) calls catch up at full
//   speed, which keeps the average rate right.
// per_second <= 0 means unlimited: Wait() returns at once.
//
// Thread-safety: thread-safe. A slot is reserved under a mutex, then the
// caller sleeps without holding it, so concurrent callers get successive
// slots.
#ifndef DBREPL_AGENT_RATE_LIMITER_H_
#define DBREPL_AGENT_RATE_LIMITER_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace dbrepl::agent {

class RateLimiter {
 public:
  using Clock = std::function<absl::Time()>;
  using Sleeper = std::function<void(absl::Duration)>;

  // Real clock (absl::Now) and absl::SleepFor.
  explicit RateLimiter(double per_second, absl::Duration rate_buffer = absl::Seconds(5));
  // For tests: an injected clock and sleep.
  RateLimiter(double per_second, absl::Duration rate_buffer, Clock clock, Sleeper sleep);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Blocks until the caller may start one more element. Never fails.
  void Wait();

  // How long Wait() would sleep if called now (zero when unlimited or due);
  // does not reserve a slot.
  absl::Duration Delay() const;

  bool unlimited() const { return per_second_ <= 0; }

 private:
  const double per_second_;
  const absl::Duration interval_;  // 1 / per_second
  const absl::Duration rate_buffer_;
  const Clock clock_;
  const Sleeper sleep_;

  mutable absl::Mutex mu_;
  // The slot of the next allowed call. Starts at the epoch, so the first call
  // always resets it to "now" (as Swift's running_time = 0).
  absl::Time running_time_ ABSL_GUARDED_BY(mu_) = absl::UnixEpoch();
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_RATE_LIMITER_H_
