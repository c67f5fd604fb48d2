#include "agent/rate_limiter.h"

#include <utility>

namespace dbrepl::agent {

RateLimiter::RateLimiter(double per_second, absl::Duration rate_buffer)
    : RateLimiter(per_second, rate_buffer, [] { return absl::Now(); }, [](absl::Duration d) { absl::SleepFor(d); }) {}

RateLimiter::RateLimiter(double per_second, absl::Duration rate_buffer, Clock clock, Sleeper sleep)
    : per_second_(per_second),
      interval_(per_second > 0 ? absl::Seconds(1.0 / per_second) : absl::ZeroDuration()),
      rate_buffer_(rate_buffer),
      clock_(std::move(clock)),
      sleep_(std::move(sleep)) {}

void RateLimiter::Wait() {
  if (unlimited()) return;
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_();
    if (now - running_time_ > rate_buffer_) running_time_ = now;
    delay = running_time_ - now;  // <= 0: due
    running_time_ += interval_;
  }
  if (delay > absl::ZeroDuration()) sleep_(delay);
}

absl::Duration RateLimiter::Delay() const {
  if (unlimited()) return absl::ZeroDuration();
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  if (now - running_time_ > rate_buffer_) return absl::ZeroDuration();
  return running_time_ > now ? running_time_ - now : absl::ZeroDuration();
}

}  // namespace dbrepl::agent
