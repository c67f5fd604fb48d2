#include "agent/replicator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

double NowSeconds() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

std::string NodeName(const RingNode& n) {
  return absl::StrCat(n.replication_ip, ":", n.replication_port, "/", n.device);
}

// The database hash from its file name: "<hash>.db" or "<hash>_<epoch>.db".
std::string HashOf(const std::string& db_file) {
  std::string base = Basename(db_file);
  size_t cut = base.find_first_of("_.");
  return base.substr(0, cut);
}

}  // namespace

Replicator::Replicator(ReplicatorOptions options, ReloadingRing* ring, PeerClient* peers, RsyncRunner* rsync,
                       AgentMetrics* metrics)
    : options_(std::move(options)),
      ring_(ring),
      peers_(peers),
      rsync_(rsync),
      metrics_(metrics),
      progress_(options_.type) {}

std::string Replicator::LogPrefix(const std::string& db_file, const RingNode* node) const {
  // <device>/<part>/<hash> as in the file's path.
  std::string rel = db_file.substr(std::min(db_file.size(), options_.devices.size() + 1));
  std::vector<std::string> parts = absl::StrSplit(rel, '/');
  std::string where = parts.size() >= 6 ? absl::StrCat(parts[0], "/", parts[2], "/", parts[4]) : db_file;
  if (node == nullptr) return absl::StrCat(ServerType(options_.type), " ", where, ": ");
  return absl::StrCat(ServerType(options_.type), " ", where, " peer ", NodeName(*node), ": ");
}

v1::DbRef Replicator::RefFor(const RingNode& node, int64_t partition, const std::string& hash) const {
  v1::DbRef ref;
  ref.set_type(ToProto(options_.type));
  ref.set_device(node.device);
  ref.set_partition(partition);
  ref.set_hash(hash);
  return ref;
}

PeerAddress Replicator::AddressOf(const RingNode& node) const {
  return PeerAddress{node.replication_ip, node.replication_port};
}

void Replicator::AddFailureForPrimaries(const Ring& ring, int64_t partition) {
  for (const RingNode& n : ring.GetPartNodes(partition)) stats_.AddFailure(n.replication_ip, n.device);
}

DbOutcome Replicator::ReplicateDb(int64_t partition, const std::string& db_file, int node_id) {
  DbOutcome out;
  const double now = NowSeconds();
  stats_.Add(StatField::kAttempted);
  if (metrics_ != nullptr) metrics_->CountAttempt();
  std::shared_ptr<const Ring> ring = ring_->Get();
  bool shouldbehere = true;
  const std::string prefix = LogPrefix(db_file, nullptr);

  BrokerOptions bo;
  bo.lock_timeout = absl::Seconds(30);  // Swift's pending_timeout for the replicator.
  std::unique_ptr<DatabaseBroker> broker;
  ReplicationInfo info;
  absl::Status read = [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<DatabaseBroker>> b = DatabaseBroker::Open(options_.type, db_file, bo);
    if (!b.ok()) return b.status();
    broker = std::move(*b);
    absl::StatusOr<int> tmp_removed =
        ReclaimTmpFiles(Dirname(db_file), absl::FromUnixSeconds(0) + absl::Seconds(now - options_.reclaim_age));
    if (!tmp_removed.ok()) LOG(WARNING) << prefix << "reclaiming .tmp files: " << tmp_removed.status();
    if (absl::Status s = broker->Reclaim(now - options_.reclaim_age, now - 2 * options_.reclaim_age); !s.ok()) {
      return s;
    }
    absl::StatusOr<ReplicationInfo> i = broker->GetReplicationInfo();
    if (!i.ok()) return i.status();
    info = *i;
    return absl::OkStatus();
  }();
  if (!read.ok()) {
    if (read.code() == absl::StatusCode::kDataLoss) {
      // The broker has moved the corrupt database to quarantine.
      LOG(ERROR) << prefix << "Quarantining DB: " << read.message();
      stats_.Add(StatField::kQuarantined);
      if (metrics_ != nullptr) metrics_->CountQuarantined();
      out.local_action = "quarantined";
    } else {
      LOG(ERROR) << prefix << "ERROR reading db: " << read;
      out.local_action = "error";
    }
    AddFailureForPrimaries(*ring, partition);
    if (metrics_ != nullptr) metrics_->Count("failure");
    return out;
  }

  int64_t bpart = ring->GetPart(options_.hash_config, info.account,
                                options_.type == DbType::kContainer ? info.container : "");
  out.ring_partition = bpart;
  if (bpart != partition) {
    LOG(ERROR) << prefix << "Found db that should be on partition " << bpart << "; will replicate out and remove.";
    partition = bpart;
    shouldbehere = false;
  }

  absl::StatusOr<bool> reclaimable = broker->IsReclaimable(now, options_.reclaim_age);
  if (reclaimable.ok() && *reclaimable) {
    absl::StatusOr<bool> up_to_date = broker->ReportUpToDate(info);
    if (up_to_date.ok() && *up_to_date) {
      broker.reset();
      if (absl::Status s = DeleteDbFiles(db_file); s.ok()) {
        stats_.Add(StatField::kRemove);
        if (metrics_ != nullptr) metrics_->Count("remove");
        LOG(INFO) << prefix << "removed reclaimable deleted database";
        out.local_action = "reclaimed";
      } else {
        LOG(ERROR) << prefix << "ERROR removing reclaimable database: " << s;
      }
    }
    out.success = true;
    return out;
  }

  std::vector<RingNode> nodes = ring->GetPartNodes(partition);
  absl::optional<RingNode> local_dev;
  for (const RingNode& n : nodes) {
    if (n.id == node_id) {
      local_dev = n;
      break;
    }
  }
  if (shouldbehere) shouldbehere = local_dev.has_value();
  // Footnote [1]: a primary talks to the next primary first; a handoff talks
  // to every primary in ring order. A single-replica ring keeps its one node,
  // even if it is this one, so a misplaced database is never deleted without
  // having been replicated (bug 1568591).
  std::vector<RingNode> repl_nodes;
  if (nodes.size() > 1) {
    size_t i = nodes.size();
    for (size_t k = 0; k < nodes.size(); ++k) {
      if (nodes[k].id == node_id) i = k;
    }
    for (size_t k = i + 1; k < nodes.size(); ++k) repl_nodes.push_back(nodes[k]);
    for (size_t k = 0; k < i && k < nodes.size(); ++k) repl_nodes.push_back(nodes[k]);
  } else {
    repl_nodes = nodes;
  }
  HandoffIterator more_nodes = ring->GetMoreNodes(partition);
  if (!local_dev.has_value()) {
    HandoffIterator search = ring->GetMoreNodes(partition);
    while (absl::optional<RingNode> n = search.Next()) {
      if (n->id == node_id) {
        local_dev = n;
        break;
      }
    }
  }

  std::vector<bool> responses;
  std::set<std::pair<std::string, std::string>> failure_devs;
  for (size_t k = 0; k < repl_nodes.size(); ++k) {
    const RingNode node = repl_nodes[k];
    bool different_region = local_dev.has_value() && local_dev->region != node.region;
    NodeOutcome outcome;
    outcome.node = node;
    bool device_unavailable = false;
    bool success = ReplToNode(node, *broker, partition, info, different_region, &outcome, &device_unavailable);
    if (device_unavailable) {
      if (absl::optional<RingNode> next = more_nodes.Next()) {
        repl_nodes.push_back(*next);
      } else {
        LOG(ERROR) << prefix << "ERROR There are not enough handoff nodes to reach replica count for partition "
                   << partition;
      }
      LOG(ERROR) << prefix << "ERROR Remote drive not mounted " << NodeName(node);
    }
    outcome.success = success;
    if (!success) failure_devs.emplace(node.replication_ip, node.device);
    if (metrics_ != nullptr) metrics_->Count(success ? "success" : "failure");
    responses.push_back(success);
    out.peers.push_back(std::move(outcome));
  }

  if (!shouldbehere) {
    std::string device = local_dev.has_value() ? local_dev->device : "";
    if (!CleanupPostReplicate(broker, info, responses, device)) {
      for (const RingNode& n : repl_nodes) failure_devs.emplace(n.replication_ip, n.device);
    }
    out.local_action = broker == nullptr ? "removed" : "kept";
  }
  std::set<std::pair<std::string, std::string>> targets;
  for (const RingNode& n : repl_nodes) targets.emplace(n.replication_ip, n.device);
  int64_t successes = 0;
  for (const auto& t : targets) successes += failure_devs.count(t) == 0 ? 1 : 0;
  stats_.Add(StatField::kSuccess, successes);
  for (const auto& [ip, dev] : failure_devs) stats_.AddFailure(ip, dev);
  if (shouldbehere) responses.push_back(true);
  out.success = std::all_of(responses.begin(), responses.end(), [](bool b) { return b; });
  return out;
}

bool Replicator::ReplToNode(const RingNode& node, DatabaseBroker& broker, int64_t partition,
                            const ReplicationInfo& info, bool different_region, NodeOutcome* outcome,
                            bool* device_unavailable) {
  const std::string prefix = LogPrefix(broker.db_file(), &node);
  const std::string hash = HashOf(broker.db_file());
  absl::StatusOr<v1::SyncResponse> sync = peers_->Sync(AddressOf(node), RefFor(node, partition, hash), info);
  if (!sync.ok()) {
    if (IsDeviceUnavailable(sync.status())) {
      *device_unavailable = true;
      outcome->action = "device_unavailable";
      outcome->detail = std::string(sync.status().message());
      return false;
    }
    if (IsDbMissing(sync.status())) {
      stats_.Add(StatField::kRsync);
      if (metrics_ != nullptr) metrics_->Count("rsync");
      outcome->action = "rsync";
      return RsyncDb(broker, node, partition, info.id, /*then_merge=*/false, options_.node_timeout,
                     different_region, outcome);
    }
    LOG(ERROR) << prefix << "ERROR syncing: " << sync.status();
    outcome->action = "error";
    outcome->detail = std::string(sync.status().message());
    return false;
  }
  const v1::ReplicationInfo& rinfo = sync->info();
  absl::StatusOr<int64_t> local_sync = broker.GetSync(rinfo.id(), /*incoming=*/false);
  if (!local_sync.ok()) {
    LOG(ERROR) << prefix << "ERROR reading outgoing sync point: " << local_sync.status();
    outcome->action = "error";
    return false;
  }
  // Pull the peer's newer metadata (Swift does since 2017).
  if (!rinfo.metadata().empty()) {
    if (absl::Status s = broker.UpdateMetadata(rinfo.metadata()); !s.ok()) {
      LOG(WARNING) << prefix << "could not merge remote metadata: " << s;
    }
  }
  // And the peer's timestamps, so both ends converge (container replicator).
  if (options_.type == DbType::kContainer &&
      (rinfo.created_at() != info.created_at || rinfo.put_timestamp() != info.put_timestamp ||
       rinfo.delete_timestamp() != info.delete_timestamp)) {
    if (absl::Status s = broker.MergeTimestamps(rinfo.created_at(), rinfo.put_timestamp(), rinfo.delete_timestamp());
        !s.ok()) {
      LOG(WARNING) << prefix << "could not merge remote timestamps: " << s;
    }
  }
  return ChooseReplicationMode(node, *sync, info, *local_sync, broker, partition, different_region, outcome);
}

bool Replicator::ChooseReplicationMode(const RingNode& node, const v1::SyncResponse& resp,
                                       const ReplicationInfo& info, int64_t local_sync, DatabaseBroker& broker,
                                       int64_t partition, bool different_region, NodeOutcome* outcome) {
  const v1::ReplicationInfo& rinfo = resp.info();
  const std::string prefix = LogPrefix(broker.db_file(), &node);
  // _in_sync
  if (std::max(resp.point(), local_sync) >= info.max_row) {
    stats_.Add(StatField::kNoChange);
    if (metrics_ != nullptr) metrics_->Count("no_change");
    outcome->action = "no_change";
    VLOG(1) << prefix << "in sync, nothing to do";
    return true;
  }
  if (rinfo.hash() == info.hash) {
    stats_.Add(StatField::kHashmatch);
    if (metrics_ != nullptr) metrics_->Count("hashmatch");
    outcome->action = "hashmatch";
    if (absl::Status s = broker.MergeSyncs({SyncRecord{rinfo.id(), resp.point(), 0}}, /*incoming=*/false); !s.ok()) {
      LOG(ERROR) << prefix << "ERROR recording sync point: " << s;
      return false;
    }
    return true;
  }
  // The peer is less than half as far along and more than per_diff rows
  // behind: shipping the file and merging is cheaper than streaming rows.
  if (static_cast<double>(rinfo.max_row()) / static_cast<double>(info.max_row) < 0.5 &&
      info.max_row - rinfo.max_row() > options_.per_diff) {
    stats_.Add(StatField::kRemoteMerge);
    if (metrics_ != nullptr) metrics_->Count("remote_merge");
    outcome->action = "remote_merge";
    absl::Duration timeout = absl::Seconds(static_cast<double>(info.count) / 2000.0);
    if (timeout <= absl::ZeroDuration()) timeout = options_.node_timeout;
    timeout = std::max(timeout, options_.node_timeout);
    return RsyncDb(broker, node, partition, info.id, /*then_merge=*/true, timeout, different_region, outcome);
  }
  return Usync(std::max(resp.point(), local_sync), node, broker, partition, rinfo.id(), info.id, outcome);
}

bool Replicator::Usync(int64_t point, const RingNode& node, DatabaseBroker& broker, int64_t partition,
                       const std::string& remote_id, const std::string& local_id, NodeOutcome* outcome) {
  const std::string prefix = LogPrefix(broker.db_file(), &node);
  stats_.Add(StatField::kDiff);
  if (metrics_ != nullptr) metrics_->Count("diff");
  outcome->action = "diff";
  VLOG(1) << prefix << "usyncing chunks, starting at row " << point;
  // Captured before sending, as Swift does.
  absl::StatusOr<std::vector<SyncRecord>> sync_table = broker.GetSyncs(/*incoming=*/true);
  if (!sync_table.ok()) {
    LOG(ERROR) << prefix << "ERROR reading sync table: " << sync_table.status();
    return false;
  }
  UsyncResult acked;
  acked.point = point;
  absl::StatusOr<UsyncResult> result =
      peers_->MergeItems(AddressOf(node), RefFor(node, partition, HashOf(broker.db_file())), broker, point,
                         local_id, options_.per_diff, options_.max_diffs, &acked);
  auto record_progress = [&](int64_t acked_point) {
    // Everything up to an acknowledged point is committed on the peer; record
    // it so the next pass resumes there even if the peer's own point is lost.
    if (acked_point > point) {
      if (absl::Status s = broker.MergeSyncs({SyncRecord{remote_id, acked_point, 0}}, /*incoming=*/false); !s.ok()) {
        LOG(WARNING) << prefix << "could not record sync point " << acked_point << ": " << s;
      }
    }
  };
  if (!result.ok()) {
    LOG(ERROR) << prefix << "ERROR Bad response from peer during usync: " << result.status() << " (acknowledged up to row "
               << acked.point << ")";
    record_progress(acked.point);
    outcome->rows_sent = acked.rows_sent;
    outcome->detail = std::string(result.status().message());
    if (metrics_ != nullptr) metrics_->AddRowsSent(acked.rows_sent);
    return false;
  }
  outcome->rows_sent = result->rows_sent;
  if (metrics_ != nullptr) metrics_->AddRowsSent(result->rows_sent);
  if (result->capped) {
    LOG(INFO) << prefix << "Synchronization has fallen more than " << options_.max_diffs * options_.per_diff
              << " rows behind; moving on and will try again next pass.";
    stats_.Add(StatField::kDiffCapped);
    if (metrics_ != nullptr) metrics_->Count("diff_capped");
    outcome->action = "diff_capped";
    record_progress(result->point);
    return false;
  }
  if (absl::Status s = peers_->MergeSyncs(AddressOf(node), RefFor(node, partition, HashOf(broker.db_file())),
                                          *sync_table);
      !s.ok()) {
    LOG(ERROR) << prefix << "ERROR Bad response to MergeSyncs: " << s;
    outcome->detail = std::string(s.message());
    record_progress(result->point);
    return false;
  }
  if (absl::Status s = broker.MergeSyncs({SyncRecord{remote_id, result->point, 0}}, /*incoming=*/false); !s.ok()) {
    LOG(ERROR) << prefix << "ERROR recording sync point: " << s;
    return false;
  }
  VLOG(1) << prefix << "usync finished at row " << result->point;
  return true;
}

bool Replicator::RsyncDb(DatabaseBroker& broker, const RingNode& node, int64_t partition, const std::string& local_id,
                         bool then_merge, absl::Duration timeout, bool different_region, NodeOutcome* outcome) {
  const std::string prefix = LogPrefix(broker.db_file(), &node);
  absl::StatusOr<std::string> dest = rsync_->Destination(node, local_id);
  if (!dest.ok()) {
    LOG(ERROR) << prefix << "ERROR " << dest.status();
    outcome->detail = std::string(dest.status().message());
    return false;
  }
  const std::string& db_file = broker.db_file();
  absl::StatusOr<double> mtime = MtimeSeconds(db_file);
  if (absl::Status s = rsync_->Push(db_file, *dest, /*whole_file=*/true, different_region); !s.ok()) {
    LOG(ERROR) << prefix << "ERROR " << s;
    outcome->detail = std::string(s.message());
    return false;
  }
  absl::StatusOr<double> mtime_after = MtimeSeconds(db_file);
  if (PathExists(db_file + "-journal") || !mtime.ok() || !mtime_after.ok() || *mtime_after > *mtime) {
    // The file changed while it was copied: a second, delta pass with
    // writers locked out, so the peer gets a consistent file.
    if (absl::Status s = broker.Lock(); !s.ok()) {
      LOG(ERROR) << prefix << "ERROR locking for the second rsync pass: " << s;
      return false;
    }
    absl::Status s = rsync_->Push(db_file, *dest, /*whole_file=*/false, different_region);
    absl::Status u = broker.Unlock();
    if (!s.ok()) {
      LOG(ERROR) << prefix << "ERROR " << s;
      outcome->detail = std::string(s.message());
      return false;
    }
    if (!u.ok()) LOG(WARNING) << prefix << "unlock: " << u;
  }
  v1::DbRef ref = RefFor(node, partition, HashOf(db_file));
  absl::StatusOr<std::string> new_id =
      then_merge ? peers_->RsyncThenMerge(AddressOf(node), ref, local_id, Basename(db_file), timeout)
                 : peers_->CompleteRsync(AddressOf(node), ref, local_id, Basename(db_file), timeout);
  if (!new_id.ok()) {
    LOG(ERROR) << prefix << "ERROR " << (then_merge ? "RsyncThenMerge" : "CompleteRsync") << ": " << new_id.status();
    outcome->detail = std::string(new_id.status().message());
    return false;
  }
  VLOG(1) << prefix << "peer installed the rsynced copy as " << *new_id;
  return true;
}

bool Replicator::CleanupPostReplicate(std::unique_ptr<DatabaseBroker>& broker, const ReplicationInfo& orig_info,
                                      const std::vector<bool>& responses, const std::string& device) {
  const std::string prefix = LogPrefix(broker->db_file(), nullptr);
  absl::StatusOr<int64_t> max_row = broker->GetMaxRow();
  if (!max_row.ok()) {
    LOG(ERROR) << prefix << "Not deleting db: cannot read max_row: " << max_row.status();
    return true;
  }
  int64_t delta = *max_row - orig_info.max_row;
  if (delta < 0) {
    LOG(ERROR) << prefix << "Not deleting db (negative max_row_delta: " << delta << ")";
    return true;
  }
  if (delta > 0) {
    VLOG(1) << prefix << "Not deleting db (" << delta << " new rows)";
    return true;
  }
  int64_t trues = std::count(responses.begin(), responses.end(), true);
  bool del = options_.handoff_delete > 0
                 ? trues >= options_.handoff_delete
                 : (!responses.empty() && trues == static_cast<int64_t>(responses.size()));
  if (!del) {
    VLOG(1) << prefix << "Not deleting db (" << trues << "/" << responses.size() << " success)";
    return true;
  }
  std::string db_file = broker->db_file();
  broker.reset();
  if (absl::Status s = DeleteDbFiles(db_file); !s.ok()) {
    LOG(ERROR) << prefix << "Failed to delete db: " << s;
    return false;
  }
  stats_.Add(StatField::kRemove);
  if (metrics_ != nullptr) metrics_->Count("remove");
  LOG(INFO) << prefix << "removed handoff/misplaced db from " << device << " after " << trues << "/"
            << responses.size() << " successful pushes";
  return true;
}

}  // namespace dbrepl::agent
