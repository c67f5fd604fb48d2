#include "peer/concurrency_limiter.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace dbrepl::peer {

ConcurrencyLimiter::Slot::~Slot() { owner_->Release(); }

absl::StatusOr<std::unique_ptr<ConcurrencyLimiter::Slot>> ConcurrencyLimiter::TryAcquire() {
  absl::MutexLock lock(&mu_);
  if (in_flight_ >= max_) {
    return PeerAtCapacityError(
        absl::StrCat("peer is running its maximum of ", max_, " calls; retry this database later"));
  }
  ++in_flight_;
  return std::make_unique<Slot>(this);
}

int ConcurrencyLimiter::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

void ConcurrencyLimiter::Release() {
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

}  // namespace dbrepl::peer
