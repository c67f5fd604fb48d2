// Watchdog: cancels a call that waits too long for one step. gRPC deadlines
// bound a whole call; a stream of many batches needs a bound per batch (the
// sender waiting for an acknowledgement, the peer waiting for the next
// batch), or one stalled party holds the other's thread for the whole
// stream. One thread serves every armed call.
//
//   Watchdog watchdog;
//   watchdog.Arm(&ctx, absl::Now() + absl::Seconds(10), [&] { ctx.TryCancel(); });
//   bool ok = stream->Read(&msg);   // cancelled if it takes longer
//   watchdog.Disarm(&ctx);
//
// `key` identifies the armed entry (any pointer; Arm again replaces it).
// The cancel callback runs on the watchdog's thread, at most once per Arm,
// and never after Disarm(key) has returned.
//
// Thread-safe. Destroying the watchdog stops its thread; nothing may be
// armed then.
#ifndef DBREPL_COMMON_RPC_WATCHDOG_H_
#define DBREPL_COMMON_RPC_WATCHDOG_H_

#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace dbrepl {

class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Arm(const void* key, absl::Time deadline, std::function<void()> cancel);
  void Disarm(const void* key);

 private:
  struct Entry {
    absl::Time deadline;
    std::function<void()> cancel;
  };
  void Loop();

  absl::Mutex mu_;
  std::map<const void*, Entry> armed_ ABSL_GUARDED_BY(mu_);
  // The entry whose cancel runs now (Disarm of it waits until it is done).
  const void* firing_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RPC_WATCHDOG_H_
