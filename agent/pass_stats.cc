#include "agent/pass_stats.h"

#include "absl/strings/str_format.h"

namespace dbrepl::agent {
namespace {

int64_t* FieldOf(PassStats& s, StatField field) {
  switch (field) {
    case StatField::kAttempted: return &s.attempted;
    case StatField::kSuccess: return &s.success;
    case StatField::kFailure: return &s.failure;
    case StatField::kNoChange: return &s.no_change;
    case StatField::kHashmatch: return &s.hashmatch;
    case StatField::kRsync: return &s.rsync;
    case StatField::kDiff: return &s.diff;
    case StatField::kDiffCapped: return &s.diff_capped;
    case StatField::kRemoteMerge: return &s.remote_merge;
    case StatField::kRemove: return &s.remove;
    case StatField::kEmpty: return &s.empty;
    case StatField::kTsRepl: return &s.ts_repl;
    case StatField::kDeferred: return &s.deferred;
    case StatField::kQuarantined: return &s.quarantined;
    case StatField::kSkippedDevices: return &s.skipped_devices;
    case StatField::kSkippedSharded: return &s.skipped_sharded;
  }
  return nullptr;
}

}  // namespace

absl::string_view StatFieldName(StatField field) {
  switch (field) {
    case StatField::kAttempted: return "attempted";
    case StatField::kSuccess: return "success";
    case StatField::kFailure: return "failure";
    case StatField::kNoChange: return "no_change";
    case StatField::kHashmatch: return "hashmatch";
    case StatField::kRsync: return "rsync";
    case StatField::kDiff: return "diff";
    case StatField::kDiffCapped: return "diff_capped";
    case StatField::kRemoteMerge: return "remote_merge";
    case StatField::kRemove: return "remove";
    case StatField::kEmpty: return "empty";
    case StatField::kTsRepl: return "ts_repl";
    case StatField::kDeferred: return "deferred";
    case StatField::kQuarantined: return "quarantined";
    case StatField::kSkippedDevices: return "skipped_devices";
    case StatField::kSkippedSharded: return "skipped_sharded";
  }
  return "unknown";
}

void StatsCollector::Reset(double start_time) {
  absl::MutexLock lock(&mu_);
  stats_ = PassStats();
  stats_.start = start_time;
}

void StatsCollector::Add(StatField field, int64_t n) {
  absl::MutexLock lock(&mu_);
  if (int64_t* counter = FieldOf(stats_, field)) *counter += n;
}

void StatsCollector::AddFailure(const std::string& ip, const std::string& device) {
  absl::MutexLock lock(&mu_);
  ++stats_.failure;
  ++stats_.failure_nodes[ip][device];
}

PassStats StatsCollector::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::vector<std::string> SummaryLines(const PassStats& s, double elapsed) {
  return {
      absl::StrFormat("Attempted to replicate %d dbs in %.5f seconds (%.5f/s)", s.attempted, elapsed,
                      static_cast<double>(s.attempted) / (elapsed + 0.0000001)),
      absl::StrFormat("Removed %d dbs", s.remove),
      absl::StrFormat("%d successes, %d failures", s.success, s.failure),
      // Swift prints these eight keys of its stats dict in sorted order.
      absl::StrFormat("diff:%d diff_capped:%d empty:%d hashmatch:%d no_change:%d remote_merge:%d rsync:%d ts_repl:%d",
                      s.diff, s.diff_capped, s.empty, s.hashmatch, s.no_change, s.remote_merge, s.rsync,
                      s.ts_repl),
  };
}

nlohmann::json ReplicationStatsJson(const PassStats& s) {
  nlohmann::json failure_nodes = nlohmann::json::object();
  for (const auto& [ip, devices] : s.failure_nodes) {
    for (const auto& [device, count] : devices) failure_nodes[ip][device] = count;
  }
  return nlohmann::json{
      {"attempted", s.attempted},
      {"deferred", s.deferred},
      {"diff", s.diff},
      {"diff_capped", s.diff_capped},
      {"empty", s.empty},
      {"failure", s.failure},
      {"failure_nodes", std::move(failure_nodes)},
      {"hashmatch", s.hashmatch},
      {"no_change", s.no_change},
      {"remote_merge", s.remote_merge},
      {"remove", s.remove},
      {"rsync", s.rsync},
      {"start", s.start},
      {"success", s.success},
      {"ts_repl", s.ts_repl},
  };
}

}  // namespace dbrepl::agent
