// Agent: runs ReplicationPass passes, Swift's run_forever: after a random initial
// delay (so a fleet started together does not pass in lockstep), a pass every
// `interval` seconds, measured start to start; a pass never overlaps
// another. RunPassNow() (the admin API) starts one at once unless one is
// running.
//
// Thread-safety: all methods are thread-safe.
#ifndef DBREPL_AGENT_AGENT_H_
#define DBREPL_AGENT_AGENT_H_

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/replication_pass.h"

namespace dbrepl::agent {

class Agent {
 public:
  Agent(ReplicationPass* replicator, absl::Duration interval, bool initial_delay);
  ~Agent();

  // Starts the daemon loop in a thread.
  void Start();
  // Stops after the running pass (if any) finishes; joins.
  void Stop();

  // Asks for a pass now with `overrides`. False if one is running (or
  // already requested).
  bool RunPassNow(const PassOverrides& overrides);

  bool pass_running() const;

 private:
  void Loop();

  ReplicationPass* replicator_;
  const absl::Duration interval_;
  const bool initial_delay_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  PassOverrides requested_overrides_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_AGENT_H_
