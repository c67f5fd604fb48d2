// Agent: runs ReplicationPass passes, Swift's run_forever (swift/common/
// db_replicator.py, Replicator.run_forever): after a random initial delay (so
// a fleet started together does not pass in lockstep), a pass every
// `interval`, measured start to start; a pass never overlaps another.
// RunPassNow() (the admin API) starts one at once unless one is running.
//
//   Agent agent(&pass, absl::Seconds(30), /*initial_delay=*/true);
//   agent.Start();
//   ...                      // RunPassNow() from the admin service
//   agent.Stop();            // on SIGTERM: the running pass finishes its
//                            // databases in flight, then the thread exits
//
// Lifecycle: construct -> Start() at most once -> Stop() (idempotent; the
// destructor calls it). Stop() is final: the pass is told to stop
// (ReplicationPass::RequestStop) and no later pass runs, so an Agent is not
// restarted; make a new Agent and ReplicationPass instead. RunPassNow() may be
// called at any time: before Start() the request waits for the loop, after
// Stop() it is refused. `replicator` (the pass) must outlive the Agent.
//
// Success and failure: a pass that returns an error is logged ("ERROR trying
// to replicate", as Swift logs it) and the loop carries on with the next
// interval, as Swift's run_forever does; per-database failures are in the
// pass's stats (ReplicationPass::Last()), not here. Nothing here fails otherwise.
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

  // Starts the daemon loop in its own thread. Call at most once.
  void Start();
  // Stops the loop: a running pass is asked to stop and finishes the
  // databases in flight; blocks until the thread has exited. Idempotent.
  void Stop();

  // Asks for a pass now with `overrides` (devices/partitions, as Swift's
  // --devices/--partitions). True if the request was taken: the pass starts
  // as soon as the loop sees it, and the regular schedule continues from its
  // start. False, and nothing changes, if a pass is running or already
  // requested, or the Agent is stopping.
  bool RunPassNow(const PassOverrides& overrides);

  // True while a pass runs or a requested one has yet to start.
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
