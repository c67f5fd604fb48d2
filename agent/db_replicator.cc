#include "agent/db_replicator.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/replication/plan.h"
#include "common/db/db_files.h"
#include "common/db/policy_index.h"
#include "common/timestamp.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

PeerAddress AddressOf(const RingNode& node) { return PeerAddress{node.replication_ip, node.replication_port}; }

}  // namespace

std::string HashOf(const std::string& db_file) {
  std::string base = Basename(db_file);
  return base.substr(0, base.find_first_of("_."));
}

std::string DeviceDirOf(const std::string& devices, const std::string& db_file) {
  size_t start = std::min(db_file.size(), devices.size() + 1);
  size_t slash = db_file.find('/', start);
  return db_file.substr(0, slash == std::string::npos ? db_file.size() : slash);
}

std::string NodeName(const RingNode& n) {
  return absl::StrCat(n.replication_ip, ":", n.replication_port, "/", n.device);
}

// One database being replicated: its broker and what was read at the start.
struct DbReplicator::Local {
  std::string db_file;
  std::string hash;
  std::unique_ptr<DatabaseBroker> broker;
  ReplicationInfo info;
  bool should_be_here = true;
};

DbReplicator::DbReplicator(const ReplicatorOptions& options, ReloadingRing* ring, PeerClient* peers,
                           RsyncRunner* rsync, OutcomeRecorder* recorder, ReplicationLocks* locks, Env* env)
    : options_(options), ring_(ring), peers_(peers), rsync_(rsync), recorder_(recorder), locks_(locks), env_(env) {}

std::string DbLogPrefix(DbType type, const std::string& devices, const std::string& db_file, const RingNode* node) {
  // <device>/<part>/<hash> as in the file's path.
  std::string rel = db_file.substr(std::min(db_file.size(), devices.size() + 1));
  std::vector<std::string> parts = absl::StrSplit(rel, '/');
  std::string where = parts.size() >= 6 ? absl::StrCat(parts[0], "/", parts[2], "/", parts[4]) : db_file;
  if (node == nullptr) return absl::StrCat(ServerType(type), " ", where, ": ");
  return absl::StrCat(ServerType(type), " ", where, " peer ", NodeName(*node), ": ");
}

v1::DbRef DbReplicator::RefFor(const RingNode& node, int64_t partition, const std::string& hash) const {
  v1::DbRef ref;
  ref.set_type(ToProto(options_.type));
  ref.set_device(node.device);
  ref.set_partition(partition);
  ref.set_hash(hash);
  return ref;
}

DbOutcome DbReplicator::ReplicateDb(int64_t partition, const std::string& db_file, int node_id) {
  DbOutcome out;
  const std::string prefix = LogPrefix(db_file, nullptr);
  Local local;
  local.db_file = db_file;
  local.hash = HashOf(db_file);
  absl::StatusOr<ReplicationLocks::Held> held = locks_->TryLock(DeviceDirOf(options_.devices, db_file), local.hash);
  if (!held.ok()) {
    // Whoever holds it is replicating it now; that is this pass's work done.
    out.local_action = LocalAction::kBusy;
    out.success = true;
    recorder_->Local(LocalAction::kBusy, prefix, held.status().message());
    return out;
  }
  recorder_->Attempted();
  auto sharded = [&](const std::string& why) {
    out.local_action = LocalAction::kSharded;
    out.success = true;  // As Swift's sharding deferral: not a failure of this node.
    recorder_->Local(LocalAction::kSharded, prefix, why);
    return out;
  };
  if (options_.type == DbType::kContainer &&
      (Basename(db_file) != local.hash + ".db" || HasEpochDbFile(Dirname(db_file), local.hash))) {
    return sharded("the hash directory holds a sharding epoch file");
  }
  const double now = env_->NowSeconds();
  std::shared_ptr<const Ring> ring = ring_->Get();

  BrokerOptions bo;
  bo.lock_timeout = absl::Seconds(30);  // Swift's pending_timeout for the replicator.
  absl::Status read = [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<DatabaseBroker>> b = DatabaseBroker::Open(options_.type, db_file, bo);
    if (!b.ok()) return b.status();
    local.broker = std::move(*b);
    absl::StatusOr<int> tmp_removed =
        ReclaimTmpFiles(Dirname(db_file), absl::FromUnixSeconds(0) + absl::Seconds(now - options_.reclaim_age));
    if (!tmp_removed.ok()) LOG(WARNING) << prefix << "reclaiming .tmp files: " << tmp_removed.status();
    if (absl::Status s = local.broker->Reclaim(now - options_.reclaim_age, now - 2 * options_.reclaim_age);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<ReplicationInfo> i = local.broker->GetReplicationInfo();
    if (!i.ok()) return i.status();
    local.info = *i;
    return absl::OkStatus();
  }();
  if (!read.ok()) {
    // A DATA_LOSS means the broker has moved the corrupt database away.
    out.local_action = read.code() == absl::StatusCode::kDataLoss ? LocalAction::kQuarantined : LocalAction::kError;
    recorder_->Unreadable(out.local_action, prefix, read.ToString(), ring->GetPartNodes(partition));
    return out;
  }

  if (ShardingInPlay(local.info)) {
    return sharded(absl::StrCat("db_state ", local.info.db_state, ", shard_max_row ", local.info.shard_max_row));
  }
  int64_t bpart = ring->GetPart(options_.hash_config, local.info.account,
                                options_.type == DbType::kContainer ? local.info.container : "");
  out.ring_partition = bpart;
  const bool misplaced = bpart != partition;
  if (misplaced) {
    LOG(ERROR) << prefix << "Found db that should be on partition " << bpart << "; will replicate out and remove.";
    local.should_be_here = false;
  }

  absl::StatusOr<bool> reclaimable = local.broker->IsReclaimable(now, options_.reclaim_age);
  if (reclaimable.ok() && *reclaimable) {
    absl::StatusOr<bool> up_to_date = local.broker->ReportUpToDate(local.info);
    if (up_to_date.ok() && *up_to_date) {
      local.broker.reset();
      if (absl::Status s = DeleteDbFilesIfUnchanged(options_.type, db_file, local.info.max_row); s.ok()) {
        out.local_action = LocalAction::kReclaimed;
        recorder_->Local(LocalAction::kReclaimed, prefix, "");
      } else {
        LOG(ERROR) << prefix << "not removing reclaimable database: " << s;
      }
    }
    out.success = true;
    return out;
  }

  std::vector<RingNode> primaries = ring->GetPartNodes(bpart);
  absl::optional<RingNode> local_dev;
  for (const RingNode& n : primaries) {
    if (n.id == node_id) local_dev = n;
  }
  if (local.should_be_here) local.should_be_here = local_dev.has_value();
  if (!local_dev.has_value()) {
    HandoffIterator search = ring->GetMoreNodes(bpart);
    while (absl::optional<RingNode> n = search.Next()) {
      if (n->id == node_id) {
        local_dev = n;
        break;
      }
    }
  }

  std::vector<RingNode> targets = PushTargets(primaries, node_id);
  HandoffIterator more_nodes = ring->GetMoreNodes(bpart);
  std::vector<bool> pushes;
  std::set<std::pair<std::string, std::string>> failed;
  for (size_t k = 0; k < targets.size(); ++k) {
    const RingNode node = targets[k];
    const bool different_region = local_dev.has_value() && local_dev->region != node.region;
    NodeOutcome o = PushToNode(node, local, bpart, different_region);
    if (o.result == PeerResult::kDeviceUnavailable) {
      // A stand-in for the unavailable target; never this database's own
      // device, whose "success" would count a copy that does not exist.
      absl::optional<RingNode> next;
      while ((next = more_nodes.Next()).has_value() && !UsableHandoff(*next, node_id, !misplaced)) {
      }
      if (next.has_value()) {
        targets.push_back(*next);
      } else {
        LOG(ERROR) << prefix << "ERROR There are not enough handoff nodes to reach replica count for partition "
                   << bpart;
      }
    }
    if (o.result == PeerResult::kPeerBusy) out.retry_later = true;
    if (!o.success) failed.emplace(node.replication_ip, node.device);
    recorder_->PeerDone(o, LogPrefix(db_file, &node));
    recorder_->RowsSent(o.rows_sent);
    pushes.push_back(o.success);
    out.peers.push_back(std::move(o));
  }

  if (post_ != nullptr && local.broker != nullptr) {
    post_->AfterReplicate(*local.broker, local.info, db_file,
                          static_cast<int>(std::count(pushes.begin(), pushes.end(), true)),
                          static_cast<int>(pushes.size()));
  }
  if (!local.should_be_here && !RemoveIfUnneeded(local, pushes, &out)) {
    // As Swift: a removal that failed counts every target as failed.
    for (const RingNode& n : targets) failed.emplace(n.replication_ip, n.device);
  }
  std::set<std::pair<std::string, std::string>> distinct;
  for (const RingNode& n : targets) distinct.emplace(n.replication_ip, n.device);
  int64_t successes = 0;
  for (const auto& t : distinct) successes += failed.count(t) == 0 ? 1 : 0;
  recorder_->Targets(successes, std::vector<std::pair<std::string, std::string>>(failed.begin(), failed.end()));
  out.success = std::all_of(pushes.begin(), pushes.end(), [](bool b) { return b; });
  return out;
}

NodeOutcome DbReplicator::PushToNode(const RingNode& node, Local& local, int64_t partition, bool different_region) {
  NodeOutcome o;
  o.node = node;
  const std::string prefix = LogPrefix(local.db_file, &node);
  absl::StatusOr<v1::SyncResponse> sync = peers_->Sync(AddressOf(node), RefFor(node, partition, local.hash), local.info);
  if (!sync.ok()) {
    o.detail = sync.status().ToString();
    if (IsDeviceUnavailable(sync.status())) {
      o.result = PeerResult::kDeviceUnavailable;
    } else if (IsDbMissing(sync.status())) {
      return Rsync(node, local, partition, /*then_merge=*/false, different_region);
    } else if (GetReason(sync.status()) == ErrorReason::kPeerAtCapacity) {
      o.result = PeerResult::kPeerBusy;
    } else if (GetReason(sync.status()) == ErrorReason::kDbSharded) {
      o.result = PeerResult::kSharded;
    } else {
      o.result = PeerResult::kError;
      o.detail = absl::StrCat("syncing: ", o.detail);
    }
    return o;
  }
  const v1::ReplicationInfo& rinfo = sync->info();
  absl::StatusOr<int64_t> local_point = local.broker->GetSync(rinfo.id(), /*incoming=*/false);
  if (!local_point.ok()) {
    o.detail = absl::StrCat("reading outgoing sync point: ", local_point.status().ToString());
    return o;
  }
  // Swift's ContainerReplicator._handle_sync_response: the peer's storage
  // policy index if its claim is the better, then its newer metadata (Swift
  // does since 2017) and timestamps, so both ends converge.
  if (options_.type == DbType::kContainer) {
    const PolicyFacts remote{rinfo.storage_policy_index(), rinfo.put_timestamp(), rinfo.delete_timestamp(),
                             rinfo.status_changed_at(), rinfo.count()};
    if (IncorrectPolicyIndex(PolicyFacts::Of(local.info), remote)) {
      const std::string now = Timestamp::Now().Internal();
      if (absl::Status s = local.broker->SetStoragePolicyIndex(remote.storage_policy_index, now); !s.ok()) {
        LOG(WARNING) << prefix << "could not take the peer's storage policy index: " << s;
      } else {
        LOG(INFO) << prefix << "storage policy index " << local.info.storage_policy_index << " -> "
                  << remote.storage_policy_index << " (the peer's claim is the better)";
        local.info.storage_policy_index = remote.storage_policy_index;
        local.info.status_changed_at = std::max(local.info.status_changed_at, now);
      }
    }
  }
  if (!rinfo.metadata().empty() && rinfo.metadata() != local.info.metadata) {
    if (absl::Status s = local.broker->UpdateMetadata(rinfo.metadata()); !s.ok()) {
      LOG(WARNING) << prefix << "could not merge remote metadata: " << s;
    }
  }
  if (options_.type == DbType::kContainer &&
      (rinfo.created_at() != local.info.created_at || rinfo.put_timestamp() != local.info.put_timestamp ||
       rinfo.delete_timestamp() != local.info.delete_timestamp)) {
    if (absl::Status s = local.broker->MergeTimestamps(rinfo.created_at(), rinfo.put_timestamp(),
                                                       rinfo.delete_timestamp());
        !s.ok()) {
      LOG(WARNING) << prefix << "could not merge remote timestamps: " << s;
    }
  }
  SyncFacts facts;
  facts.local_max_row = local.info.max_row;
  facts.local_hash = local.info.hash;
  facts.local_point = *local_point;
  facts.remote_point = sync->point();
  facts.remote_max_row = rinfo.max_row();
  facts.remote_hash = rinfo.hash();
  ModeChoice choice = ChooseMode(facts, options_.per_diff);
  switch (choice.mode) {
    case Mode::kNoChange:
      o.result = PeerResult::kNoChange;
      o.success = true;
      return o;
    case Mode::kHashmatch:
      o.result = PeerResult::kHashmatch;
      if (absl::Status s = local.broker->MergeSyncs({SyncRecord{rinfo.id(), sync->point(), 0}}, /*incoming=*/false);
          !s.ok()) {
        o.detail = absl::StrCat("recording sync point: ", s.ToString());
        return o;
      }
      o.success = true;
      return o;
    case Mode::kRsyncThenMerge:
      return Rsync(node, local, partition, /*then_merge=*/true, different_region);
    case Mode::kUsync:
      return Usync(node, local, partition, choice.usync_from, rinfo.id());
  }
  return o;
}

NodeOutcome DbReplicator::UsyncTo(const RingNode& node, const std::string& db_file, int64_t partition, int64_t from,
                                  const std::string& remote_id, const std::string& expected_id,
                                  const DbFileIdentity* read_identity) {
  Local local;
  local.db_file = db_file;
  local.hash = HashOf(db_file);
  BrokerOptions bo;
  bo.lock_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(options_.type, db_file, bo);
  // Opened, then stat'ed: a file replaced or written since the handshake's
  // read shows another identity, and its id is read again.
  bool unchanged = false;
  if (broker.ok() && read_identity != nullptr) {
    absl::StatusOr<DbFileIdentity> now = StatDbFile(db_file);
    unchanged = now.ok() && *now == *read_identity;
  }
  absl::StatusOr<ReplicationInfo> info = absl::InternalError("not read");
  if (unchanged) {
    info = ReplicationInfo();
    info->id = expected_id;
  } else {
    info = broker.ok() ? (*broker)->GetReplicationInfo() : absl::StatusOr<ReplicationInfo>(broker.status());
  }
  if (!info.ok() || info->id != expected_id) {
    NodeOutcome o;
    o.node = node;
    o.result = PeerResult::kDiff;
    o.detail = info.ok() ? "the local database was replaced since the handshake; next pass"
                         : absl::StrCat("reopening for usync: ", info.status().ToString());
    return o;
  }
  local.broker = *std::move(broker);
  local.info = *std::move(info);
  return Usync(node, local, partition, from, remote_id);
}

NodeOutcome DbReplicator::Usync(const RingNode& node, Local& local, int64_t partition, int64_t from,
                                const std::string& remote_id) {
  NodeOutcome o;
  o.node = node;
  o.result = PeerResult::kDiff;
  const std::string prefix = LogPrefix(local.db_file, &node);
  VLOG(1) << prefix << "usyncing chunks, starting at row " << from;
  // Captured before sending, as Swift does: every third-party row these
  // points cover is already in this database, so it is sent below.
  absl::StatusOr<std::vector<SyncRecord>> sync_table = local.broker->GetSyncs(/*incoming=*/true);
  if (!sync_table.ok()) {
    o.detail = absl::StrCat("reading sync table: ", sync_table.status().ToString());
    return o;
  }
  DatabaseBroker* broker = local.broker.get();
  RowSource rows = [broker](int64_t after, int count) { return broker->GetItemsSince(after, count); };
  UsyncResult acked;
  acked.point = from;
  const v1::DbRef ref = RefFor(node, partition, local.hash);
  absl::StatusOr<UsyncResult> result = peers_->MergeItems(AddressOf(node), ref, rows, from, local.info.id,
                                                         options_.per_diff, options_.max_diffs, &acked, &*sync_table);
  auto record_progress = [&](int64_t acked_point) {
    // Everything up to an acknowledged point is committed on the peer; record
    // it so the next pass resumes there even if the peer's own point is lost.
    if (acked_point > from) {
      if (absl::Status s = broker->MergeSyncs({SyncRecord{remote_id, acked_point, 0}}, /*incoming=*/false); !s.ok()) {
        LOG(WARNING) << prefix << "could not record sync point " << acked_point << ": " << s;
      }
    }
  };
  if (!result.ok()) {
    o.detail = absl::StrCat("Bad response from peer during usync: ", result.status().ToString(),
                            " (acknowledged up to row ", acked.point, ")");
    if (GetReason(result.status()) == ErrorReason::kPeerAtCapacity) o.result = PeerResult::kPeerBusy;
    record_progress(acked.point);
    o.rows_sent = acked.rows_sent;
    return o;
  }
  o.rows_sent = result->rows_sent;
  if (result->capped) {
    o.result = PeerResult::kDiffCapped;
    o.detail = absl::StrCat("Synchronization has fallen more than ", options_.max_diffs * options_.per_diff,
                            " rows behind; moving on and will try again next pass.");
    record_progress(result->point);
    return o;
  }
  if (absl::Status s = result->syncs_merged ? absl::OkStatus() : peers_->MergeSyncs(AddressOf(node), ref, *sync_table);
      !s.ok()) {
    o.detail = absl::StrCat("Bad response to MergeSyncs: ", s.ToString());
    record_progress(result->point);
    return o;
  }
  // Swift records the acknowledged point in our outgoing table too. It is
  // not written here: the peer committed the same point for us with the rows
  // (the ack is its own figure), and the next pass compares max(its point,
  // our outgoing point) with our max_row, so our copy could only make a
  // difference if the peer lost its point and kept its id, and then it
  // would skip rows the peer no longer reports. Not writing it leaves our
  // file, and every cached state of it, unchanged.
  o.detail = absl::StrCat("finished at row ", result->point);
  o.success = true;
  return o;
}

NodeOutcome DbReplicator::Rsync(const RingNode& node, Local& local, int64_t partition, bool then_merge,
                                bool different_region) {
  NodeOutcome o;
  o.node = node;
  o.result = then_merge ? PeerResult::kRemoteMerge : PeerResult::kRsync;
  DatabaseBroker& broker = *local.broker;
  const std::string& db_file = local.db_file;
  const std::string& local_id = local.info.id;
  absl::StatusOr<std::string> dest = rsync_->Destination(node, local_id);
  if (!dest.ok()) {
    o.detail = dest.status().ToString();
    return o;
  }
  // The file shipped must be the one whose id it is shipped under.
  if (broker.HasMoved()) {
    o.detail = "the local database was replaced since it was opened; next pass";
    return o;
  }
  absl::StatusOr<FileStamp> before = ReadFileStamp(db_file);
  if (absl::Status s = rsync_->Push(db_file, *dest, /*whole_file=*/true, different_region); !s.ok()) {
    o.detail = s.ToString();
    return o;
  }
  absl::StatusOr<FileStamp> after = ReadFileStamp(db_file);
  if (!before.ok() || !after.ok() || *before != *after || before->journal || after->journal) {
    // The file changed (or may have) while it was copied: a second, delta
    // pass with writers locked out, so the peer gets a consistent file.
    if (absl::Status s = broker.Lock(); !s.ok()) {
      o.detail = absl::StrCat("locking for the second rsync pass: ", s.ToString());
      return o;
    }
    absl::Status s = broker.HasMoved() ? absl::UnavailableError("the local database was replaced during the copy")
                                       : rsync_->Push(db_file, *dest, /*whole_file=*/false, different_region);
    absl::Status u = broker.Unlock();
    if (!s.ok()) {
      o.detail = s.ToString();
      return o;
    }
    if (!u.ok()) LOG(WARNING) << LogPrefix(db_file, &node) << "unlock: " << u;
  }
  const v1::DbRef ref = RefFor(node, partition, local.hash);
  absl::StatusOr<std::string> new_id =
      then_merge ? peers_->RsyncThenMerge(AddressOf(node), ref, local_id, Basename(db_file),
                                          RsyncThenMergeTimeout(local.info.count, options_.node_timeout))
                 : peers_->CompleteRsync(AddressOf(node), ref, local_id, Basename(db_file), options_.node_timeout);
  if (!new_id.ok()) {
    o.detail = absl::StrCat(then_merge ? "RsyncThenMerge: " : "CompleteRsync: ", new_id.status().ToString());
    if (GetReason(new_id.status()) == ErrorReason::kPeerAtCapacity) o.result = PeerResult::kPeerBusy;
    return o;
  }
  o.detail = absl::StrCat("the peer installed it as ", *new_id);
  o.success = true;
  return o;
}

bool DbReplicator::RemoveIfUnneeded(Local& local, const std::vector<bool>& pushes, DbOutcome* out) {
  const std::string prefix = LogPrefix(local.db_file, nullptr);
  // Flush what Swift's servers appended meanwhile: it counts as new rows.
  absl::StatusOr<ReplicationInfo> now = local.broker->GetReplicationInfo();
  if (!now.ok()) {
    out->local_action = LocalAction::kKept;
    recorder_->Local(LocalAction::kKept, prefix, absl::StrCat("cannot read max_row: ", now.status().ToString()));
    return true;
  }
  RemovalChoice choice = ChooseRemoval(local.info.max_row, now->max_row, /*pending_rows=*/false, pushes,
                                       options_.handoff_delete);
  if (!choice.remove) {
    out->local_action = LocalAction::kKept;
    recorder_->Local(LocalAction::kKept, prefix, choice.reason);
    return true;
  }
  local.broker.reset();
  // Checked again under the hash directory's lock, with .pending.
  if (absl::Status s = DeleteDbFilesIfUnchanged(options_.type, local.db_file, now->max_row); !s.ok()) {
    out->local_action = LocalAction::kKept;
    if (absl::IsFailedPrecondition(s)) {  // Rows arrived at the last moment.
      recorder_->Local(LocalAction::kKept, prefix, s.message());
      return true;
    }
    LOG(ERROR) << prefix << "Failed to delete db: " << s;
    return false;
  }
  out->local_action = LocalAction::kRemoved;
  recorder_->Local(LocalAction::kRemoved, prefix, choice.reason);
  return true;
}

}  // namespace dbrepl::agent
