// What replicating one database did, as values rather than strings, and the
// one place that turns an outcome into Swift's stats, the Prometheus
// counters and the log line, so the three never disagree.
//
//   OutcomeRecorder recorder(&stats, metrics);
//   recorder.PeerDone(PeerResult::kDiff, prefix, "12 rows");
//
// Thread-safe (StatsCollector and AgentMetrics are).
#ifndef DBREPL_AGENT_OUTCOME_H_
#define DBREPL_AGENT_OUTCOME_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "agent/agent_metrics.h"
#include "agent/pass_stats.h"
#include "common/ring/ring.h"

namespace dbrepl::agent {

// How a push to one peer went.
enum class PeerResult {
  kNoChange,           // In sync already.
  kHashmatch,          // Same rows; sync point recorded.
  kDiff,               // Missing rows streamed (usync).
  kDiffCapped,         // Streamed max_diffs batches; the rest next pass.
  kRsync,              // The peer lacked it: whole file shipped and installed.
  kRemoteMerge,        // The peer was far behind: file shipped, merged there.
  kDeviceUnavailable,  // The peer's device is unmounted or full: a handoff was tried.
  kPeerBusy,           // The peer is at capacity: retried later in the pass.
  kSharded,            // The peer's copy is sharding/sharded (DB_SHARDED): left alone.
  kError,              // Anything else; see the detail.
};

// "no_change", "hashmatch", "diff", "diff_capped", "rsync", "remote_merge",
// "device_unavailable", "peer_busy", "sharded", "error".
absl::string_view PeerResultName(PeerResult result);

// What happened to the local copy.
enum class LocalAction {
  kNone,
  kRemoved,      // A handoff or misplaced copy deleted after its pushes.
  kReclaimed,    // A deleted database past reclaim_age deleted.
  kQuarantined,  // Corrupt: moved to quarantine.
  kKept,         // Should not be here, but not deleted yet (see the log).
  kBusy,         // Another worker or process is replicating it right now.
  kSharded,      // Swift's sharding is in play (ShardingInPlay): left alone.
  kError,        // Could not be read.
};

// "", "removed", "reclaimed", "quarantined", "kept", "busy", "sharded",
// "error".
absl::string_view LocalActionName(LocalAction action);

struct NodeOutcome {
  RingNode node;
  PeerResult result = PeerResult::kError;
  bool success = false;
  std::string detail;
  int64_t rows_sent = 0;
};

struct DbOutcome {
  bool success = false;
  std::vector<NodeOutcome> peers;
  LocalAction local_action = LocalAction::kNone;
  int64_t ring_partition = -1;
  // Some peer was at capacity: worth another try later in the pass.
  bool retry_later = false;
};

class OutcomeRecorder {
 public:
  // `metrics` may be null.
  OutcomeRecorder(StatsCollector* stats, AgentMetrics* metrics) : stats_(stats), metrics_(metrics) {}

  // A database was started (Swift's "attempted").
  void Attempted();
  // One peer's result. `prefix` names the database and peer for the log.
  void PeerDone(const NodeOutcome& outcome, absl::string_view prefix);
  // Rows acknowledged by a peer.
  void RowsSent(int64_t rows);
  // The local action (removed, reclaimed, quarantined, ...).
  void Local(LocalAction action, absl::string_view prefix, absl::string_view detail);
  // Swift's success/failure accounting at the end of a database: successes
  // per distinct target, failures per failed (ip, device).
  void Targets(int64_t successes, const std::vector<std::pair<std::string, std::string>>& failed);
  // A database that could not even be read (`action`: quarantined, or an
  // error): logged, and every primary of its partition counted as failed.
  void Unreadable(LocalAction action, absl::string_view prefix, absl::string_view detail,
                  const std::vector<RingNode>& primaries);

 private:
  StatsCollector* stats_;
  AgentMetrics* metrics_;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_OUTCOME_H_
