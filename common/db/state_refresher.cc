#include "common/db/state_refresher.h"

#include <utility>

#include "absl/time/clock.h"
#include "glog/logging.h"

namespace dbrepl {
namespace {

// Linux stamps files from a clock that ticks every 1-10 ms (CONFIG_HZ); a
// file not past its tick after this long was written again meanwhile.
constexpr absl::Duration kRetryEvery = absl::Milliseconds(1);
constexpr int kMaxTries = 50;

}  // namespace

StateRefresher::StateRefresher(StateCache* cache, size_t max_queued) : cache_(cache), max_queued_(max_queued) {
  if (max_queued_ > 0) thread_ = std::thread([this] { Run(); });
}

StateRefresher::~StateRefresher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool StateRefresher::Offer(std::string db_file, std::unique_ptr<DatabaseBroker> broker, TagFn tag) {
  if (broker == nullptr) return false;
  absl::MutexLock lock(&mu_);
  if (stop_ || queue_.size() >= max_queued_) return false;  // `broker` is closed on return.
  queue_.push_back(Item{std::move(db_file), std::move(broker), std::move(tag)});
  return true;
}

uint64_t StateRefresher::stored() const {
  absl::MutexLock lock(&mu_);
  return stored_;
}

void StateRefresher::WaitIdleForTesting() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || (queue_.empty() && !busy_); };
  mu_.Await(absl::Condition(&idle));
}

void StateRefresher::Run() {
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    Refresh(item);
    item.broker.reset();  // Closed before the next one is taken.
    absl::MutexLock lock(&mu_);
    busy_ = false;
  }
}

void StateRefresher::Refresh(Item& item) {
  for (int tries = 0; tries < kMaxTries; ++tries) {
    absl::StatusOr<StateCache::Refreshed> r = cache_->Refresh(item.db_file, *item.broker, item.tag);
    if (!r.ok()) {
      // Removed, quarantined or unreadable since the write: whoever reads it
      // next finds out and says so.
      VLOG(1) << item.db_file << ": state not refreshed after a write: " << r.status();
      return;
    }
    if (*r == StateCache::Refreshed::kStored) {
      absl::MutexLock lock(&mu_);
      ++stored_;
      return;
    }
    if (*r == StateCache::Refreshed::kNotStored) return;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    absl::SleepFor(kRetryEvery);  // kTooEarly: the file's tick has not passed.
  }
}

}  // namespace dbrepl
