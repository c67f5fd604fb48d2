#include "agent/outcome.h"

#include "glog/logging.h"

namespace dbrepl::agent {

absl::string_view PeerResultName(PeerResult result) {
  switch (result) {
    case PeerResult::kNoChange:
      return "no_change";
    case PeerResult::kHashmatch:
      return "hashmatch";
    case PeerResult::kDiff:
      return "diff";
    case PeerResult::kDiffCapped:
      return "diff_capped";
    case PeerResult::kRsync:
      return "rsync";
    case PeerResult::kRemoteMerge:
      return "remote_merge";
    case PeerResult::kDeviceUnavailable:
      return "device_unavailable";
    case PeerResult::kPeerBusy:
      return "peer_busy";
    case PeerResult::kSharded:
      return "sharded";
    case PeerResult::kError:
      return "error";
  }
  return "error";
}

absl::string_view LocalActionName(LocalAction action) {
  switch (action) {
    case LocalAction::kNone:
      return "";
    case LocalAction::kRemoved:
      return "removed";
    case LocalAction::kReclaimed:
      return "reclaimed";
    case LocalAction::kQuarantined:
      return "quarantined";
    case LocalAction::kKept:
      return "kept";
    case LocalAction::kBusy:
      return "busy";
    case LocalAction::kSharded:
      return "sharded";
    case LocalAction::kError:
      return "error";
  }
  return "";
}

void OutcomeRecorder::Attempted() {
  stats_->Add(StatField::kAttempted);
  if (metrics_ != nullptr) metrics_->CountAttempt();
}

void OutcomeRecorder::PeerDone(const NodeOutcome& o, absl::string_view prefix) {
  // Swift's counters: one per mode taken ("diff" also for a capped usync).
  auto count = [&](StatField field, const char* metric) {
    stats_->Add(field);
    if (metrics_ != nullptr) metrics_->Count(metric);
  };
  switch (o.result) {
    case PeerResult::kNoChange:
      count(StatField::kNoChange, "no_change");
      VLOG(1) << prefix << "in sync, nothing to do";
      break;
    case PeerResult::kHashmatch:
      count(StatField::kHashmatch, "hashmatch");
      VLOG(1) << prefix << "hashes match; sync point recorded";
      break;
    case PeerResult::kDiff:
      count(StatField::kDiff, "diff");
      VLOG(1) << prefix << "usync sent " << o.rows_sent << " rows" << (o.success ? "" : ": ") << o.detail;
      break;
    case PeerResult::kDiffCapped:
      count(StatField::kDiff, "diff");
      count(StatField::kDiffCapped, "diff_capped");
      LOG(INFO) << prefix << o.detail;
      break;
    case PeerResult::kRsync:
      count(StatField::kRsync, "rsync");
      if (o.success) VLOG(1) << prefix << "shipped a whole copy: " << o.detail;
      break;
    case PeerResult::kRemoteMerge:
      count(StatField::kRemoteMerge, "remote_merge");
      if (o.success) VLOG(1) << prefix << "shipped a copy to merge: " << o.detail;
      break;
    case PeerResult::kDeviceUnavailable:
      LOG(ERROR) << prefix << "ERROR Remote drive not mounted: " << o.detail;
      break;
    case PeerResult::kPeerBusy:
      LOG(WARNING) << prefix << "peer at capacity, will retry: " << o.detail;
      break;
    case PeerResult::kSharded:
      count(StatField::kSkippedSharded, "skipped_sharded");
      LOG(WARNING) << prefix << "not replicating to a sharding or sharded copy (dbrepl does not replicate "
                   << "sharded containers; Swift's replicator must): " << o.detail;
      break;
    case PeerResult::kError:
      break;
  }
  if (!o.success && o.result != PeerResult::kDeviceUnavailable && o.result != PeerResult::kPeerBusy &&
      o.result != PeerResult::kDiffCapped && o.result != PeerResult::kSharded) {
    LOG(ERROR) << prefix << "ERROR " << PeerResultName(o.result) << ": " << o.detail;
  }
  if (metrics_ != nullptr) metrics_->Count(o.success ? "success" : "failure");
}

void OutcomeRecorder::RowsSent(int64_t rows) {
  if (metrics_ != nullptr && rows > 0) metrics_->AddRowsSent(rows);
}

void OutcomeRecorder::Local(LocalAction action, absl::string_view prefix, absl::string_view detail) {
  switch (action) {
    case LocalAction::kRemoved:
    case LocalAction::kReclaimed:
      stats_->Add(StatField::kRemove);
      if (metrics_ != nullptr) metrics_->Count("remove");
      LOG(INFO) << prefix << (action == LocalAction::kRemoved ? "removed handoff/misplaced db: "
                                                               : "removed reclaimable deleted database: ")
                << detail;
      break;
    case LocalAction::kQuarantined:
      stats_->Add(StatField::kQuarantined);
      if (metrics_ != nullptr) {
        metrics_->CountQuarantined();
        metrics_->Count("failure");
      }
      LOG(ERROR) << prefix << "Quarantining DB: " << detail;
      break;
    case LocalAction::kKept:
      VLOG(1) << prefix << "Not deleting db (" << detail << ")";
      break;
    case LocalAction::kBusy:
      VLOG(1) << prefix << "skipped: " << detail;
      break;
    case LocalAction::kSharded:
      stats_->Add(StatField::kSkippedSharded);
      if (metrics_ != nullptr) metrics_->Count("skipped_sharded");
      LOG(WARNING) << prefix << "not replicating: " << detail
                   << " (dbrepl does not replicate sharded containers; nothing was changed)";
      break;
    case LocalAction::kError:
      LOG(ERROR) << prefix << "ERROR reading db: " << detail;
      if (metrics_ != nullptr) metrics_->Count("failure");
      break;
    case LocalAction::kNone:
      break;
  }
}

void OutcomeRecorder::Targets(int64_t successes, const std::vector<std::pair<std::string, std::string>>& failed) {
  stats_->Add(StatField::kSuccess, successes);
  for (const auto& [ip, dev] : failed) stats_->AddFailure(ip, dev);
}

void OutcomeRecorder::Unreadable(LocalAction action, absl::string_view prefix, absl::string_view detail,
                                 const std::vector<RingNode>& primaries) {
  Local(action, prefix, detail);
  for (const RingNode& n : primaries) stats_->AddFailure(n.replication_ip, n.device);
}

}  // namespace dbrepl::agent
