#include "common/rpc/watchdog.h"

#include <algorithm>

namespace dbrepl {

Watchdog::Watchdog() { thread_ = std::thread([this] { Loop(); }); }

Watchdog::~Watchdog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Watchdog::Arm(const void* key, absl::Time deadline, std::function<void()> cancel) {
  absl::MutexLock lock(&mu_);
  armed_[key] = Entry{deadline, std::move(cancel)};
  ++generation_;
}

void Watchdog::Disarm(const void* key) {
  absl::MutexLock lock(&mu_);
  auto idle = [this, key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return firing_ != key; };
  mu_.Await(absl::Condition(&idle));
  armed_.erase(key);
}

void Watchdog::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = absl::Now();
    absl::Time next = absl::InfiniteFuture();
    for (auto it = armed_.begin(); it != armed_.end();) {
      if (it->second.deadline > now) {
        next = std::min(next, it->second.deadline);
        ++it;
        continue;
      }
      std::function<void()> cancel = std::move(it->second.cancel);
      firing_ = it->first;
      armed_.erase(it);
      mu_.Unlock();
      cancel();
      mu_.Lock();
      firing_ = nullptr;
      it = armed_.begin();  // The map may have changed meanwhile.
    }
    const int64_t seen = generation_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || generation_ != seen;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), next);
  }
}

}  // namespace dbrepl
