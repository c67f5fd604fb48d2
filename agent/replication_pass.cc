#include "agent/replication_pass.h"

#include <algorithm>
#include <deque>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "agent/db_walker.h"
#include "agent/rate_limiter.h"
#include "agent/recon_cache.h"
#include "common/devices/check_drive.h"
#include "common/env/file_ops.h"
#include "common/fs_util.h"
#include "common/net/my_ips.h"
#include "common/paths.h"
#include "common/ring/local_devices.h"
#include "common/rpc/replica_check.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

// Swift's unlink_older_than for <device>/tmp: removes stale rsync uploads
// (regular files only; never follows a link).
void UnlinkOlderThan(Env* env, const std::string& dir, double cutoff) {
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    absl::StatusOr<FileInfo> info = env->Lstat(path);
    if (!info.ok() || !info->is_regular()) continue;
    if (static_cast<double>(info->mtime_ns) / 1e9 < cutoff && env->RemoveFile(path).ok()) {
      LOG(INFO) << "removed stale rsync upload " << path;
    }
  }
}

}  // namespace

ReplicationPass::ReplicationPass(ReplicatorOptions options, ReloadingRing* ring, PeerClient* peers,
                                 RsyncRunner* rsync, AgentMetrics* metrics, Env* env)
    : options_(std::move(options)),
      ring_(ring),
      peers_(peers),
      metrics_(metrics),
      env_(env),
      recorder_(&stats_, metrics),
      locks_(options_.type),
      cache_(options_.state_cache_entries),
      post_(PostReplicate::Options{options_.devices, options_.per_diff, options_.hash_config}, ring),
      replicator_(options_, ring, peers, rsync, &recorder_, &locks_, env),
      partitions_(options_, ring, peers, rsync, &replicator_, &recorder_, &locks_, &cache_, env),
      progress_(options_.type) {
  if (options_.type == DbType::kContainer) replicator_.set_post_replicate(&post_);
}

absl::Status ReplicationPass::CheckLocal(const PassOverrides& overrides,
                                         const std::function<bool(const v1::DbCheck&)>& emit) {
  std::shared_ptr<const Ring> ring = ring_->Get();
  absl::StatusOr<std::vector<std::string>> ips = WhatAreMyIps(options_.bind_ip);
  if (!ips.ok() || ips->empty()) return absl::FailedPreconditionError("cannot determine this node's IP addresses");
  auto ask = [&](const RingDevice& d,
                 const v1::InspectReplicasRequest& req) -> absl::StatusOr<std::vector<v1::InspectedReplica>> {
    return peers_->InspectReplicas(PeerAddress{d.replication_ip, d.replication_port}, req,
                                   std::max(options_.node_timeout, absl::Seconds(60)));
  };
  std::vector<int64_t> partitions(overrides.partitions.begin(), overrides.partitions.end());
  // What this node holds, from its own peer.
  std::set<std::pair<int64_t, std::string>> local;
  std::set<int64_t> local_partitions;
  bool found = false;
  for (const RingDevice& dev : LocalDevices(*ring, *ips, options_.bind_port)) {
    found = true;
    if (!overrides.devices.empty() && overrides.devices.count(dev.device) == 0) continue;
    v1::InspectReplicasRequest req;
    req.set_type(options_.type == DbType::kAccount ? v1::ACCOUNT : v1::CONTAINER);
    req.set_device(dev.device);
    for (int64_t p : partitions) req.add_partitions(p);
    absl::StatusOr<std::vector<v1::InspectedReplica>> mine = ask(dev, req);
    if (!mine.ok()) {
      LOG(WARNING) << "CheckPass: could not list " << dev.device << ": " << mine.status();
      continue;
    }
    for (const v1::InspectedReplica& r : *mine) {
      local.emplace(r.partition(), r.hash());
      local_partitions.insert(r.partition());
    }
  }
  if (!found) return absl::FailedPreconditionError("this node has no device in the ring");
  if (local_partitions.empty()) return absl::OkStatus();
  ReplicaInventory inv = AskEveryDevice(
      *ring, options_.type, std::vector<int64_t>(local_partitions.begin(), local_partitions.end()), {}, ask);
  for (const std::string& u : inv.unreachable) LOG(WARNING) << "CheckPass: could not ask " << u;
  for (const auto& [key, held] : inv.found) {
    if (local.count(key) == 0) continue;
    if (!emit(JudgeReplicas(*ring, key.first, key.second, held, options_.per_diff))) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ReplicationPass::LocalDeviceId(const std::string& device) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = local_device_ids_.find(device);
    if (it != local_device_ids_.end()) return it->second;
  }
  absl::StatusOr<std::vector<std::string>> ips = WhatAreMyIps(options_.bind_ip);
  if (!ips.ok()) return ips.status();
  for (const RingDevice& d : LocalDevices(*ring_->Get(), *ips, options_.bind_port)) {
    if (d.device == device) return d.id;
  }
  return absl::NotFoundError(absl::StrCat("device ", device, " is not a local device of this node in the ring"));
}

absl::Status ReplicationPass::RunPass(const PassOverrides& overrides) {
  const double start = env_->NowSeconds();
  stats_.Reset(start);
  {
    absl::MutexLock lock(&mu_);
    current_ = PassProgress();
    current_.running = true;
    current_.start_time = start;
  }
  std::shared_ptr<const Ring> ring = ring_->Get();
  absl::StatusOr<std::vector<std::string>> ips = WhatAreMyIps(options_.bind_ip);
  if (!ips.ok() || ips->empty()) {
    LOG(ERROR) << "ERROR Failed to get my own IPs?";
    absl::MutexLock lock(&mu_);
    current_.running = false;
    return absl::FailedPreconditionError("cannot determine this node's IP addresses");
  }
  if (options_.handoffs_only || options_.handoff_delete > 0) {
    LOG(WARNING) << "Starting replication pass with handoffs_only and/or handoffs_delete enabled. These modes are "
                    "not intended for normal operation; use these options with care.";
  }
  std::vector<DatadirSpec> specs;
  std::map<std::string, int> local_ids;
  bool found_local = false;
  for (const RingDevice& dev : LocalDevices(*ring, *ips, options_.bind_port)) {
    found_local = true;
    absl::StatusOr<std::string> dev_path = CheckDrive(options_.devices, dev.device, options_.mount_check);
    if (!dev_path.ok()) {
      LOG(WARNING) << "Skipping: " << dev_path.status().message();
      stats_.Add(StatField::kSkippedDevices);
      for (const auto& d : ring->devices()) {
        if (d.has_value()) stats_.AddFailure(d->replication_ip, d->device);
      }
      continue;
    }
    if (!overrides.devices.empty() && overrides.devices.count(dev.device) == 0) {
      VLOG(1) << "Skipping device " << dev.device << " (not in the devices override)";
      continue;
    }
    UnlinkOlderThan(env_, *dev_path + "/tmp", start - options_.reclaim_age);
    std::string datadir = JoinPath(*dev_path, std::string(Datadir(options_.type)));
    local_ids[dev.device] = dev.id;
    if (!IsDirectory(datadir)) continue;
    DatadirSpec spec;
    spec.path = datadir;
    spec.node_id = dev.id;
    spec.device = dev.device;
    const int dev_id = dev.id;
    const bool handoffs_only = options_.handoffs_only;
    std::set<int64_t> parts = overrides.partitions;
    spec.partition_filter = [ring, dev_id, handoffs_only, parts](int64_t p) {
      if (handoffs_only) {
        for (const RingNode& n : ring->GetPartNodes(p)) {
          if (n.id == dev_id) return false;
        }
      }
      return parts.empty() || parts.count(p) > 0;
    };
    specs.push_back(std::move(spec));
  }
  {
    absl::MutexLock lock(&mu_);
    local_device_ids_ = local_ids;
  }
  post_.SetLocalDevices(local_ids);
  if (!found_local) {
    LOG(ERROR) << "Can't find itself " << absl::StrJoin(*ips, ", ") << " with port " << options_.bind_port
               << " in ring file, not replicating";
  }

  LOG(INFO) << "Beginning replication run";
  DbWalker walker(std::move(specs), std::random_device()());
  RateLimiter limiter(options_.databases_per_second);
  // The total is the walker's running estimate (-1 until it has walked one
  // partition, exact once it is done): no second directory walk.
  progress_.Start();
  std::atomic<bool> all_ok{true};

  // Work: the walk, partition by partition, then databases whose peer was
  // at capacity, one by one, each after its backoff.
  struct Retry {
    WalkItem item;
    absl::Time not_before;
    int attempt;
  };
  absl::Mutex work_mu;
  bool walk_done = false;
  int in_flight = 0;
  std::deque<Retry> retries;
  // Databases of a walked chunk that take the per-database path: any worker
  // takes them, before walking on.
  std::deque<WalkItem> singles;
  // Fills `partition` (a walk step) or `retry` (one database); false when
  // the pass has nothing left.
  auto next_work = [&](std::vector<WalkItem>* partition, absl::optional<Retry>* retry) -> bool {
    absl::MutexLock lock(&work_mu);
    while (!stop_requested_) {
      if (!singles.empty()) {
        *retry = Retry{std::move(singles.front()), env_->Now(), 0};
        singles.pop_front();
        ++in_flight;
        return true;
      }
      if (!walk_done) {
        // Whole partitions until the chunk holds batch_databases: what the
        // peers lack travels in one rsync per peer device for all of them.
        while (static_cast<int>(partition->size()) < std::max(1, options_.batch_databases)) {
          std::vector<WalkItem> items = walker.NextPartition();
          progress_.SetTotal(walker.EstimatedTotal(), walker.done());
          if (items.empty()) {
            walk_done = true;
            break;
          }
          for (size_t k = 0; k < items.size(); ++k) limiter.Wait();
          partition->insert(partition->end(), std::make_move_iterator(items.begin()),
                            std::make_move_iterator(items.end()));
        }
        if (!partition->empty()) {
          ++in_flight;
          return true;
        }
      }
      if (!retries.empty()) {
        absl::Time due = retries.front().not_before;
        if (env_->Now() >= due) {
          *retry = std::move(retries.front());
          retries.pop_front();
          ++in_flight;
          return true;
        }
        auto stop = [this] { return stop_requested_.load(); };
        work_mu.AwaitWithDeadline(absl::Condition(&stop), due);
        continue;
      }
      if (in_flight == 0) return false;  // Nothing can be added any more.
      auto more = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(work_mu) {
        return !singles.empty() || !retries.empty() || in_flight == 0 || stop_requested_.load();
      };
      work_mu.Await(absl::Condition(&more));
    }
    return false;
  };
  auto account = [&](const WalkItem& item, const DbOutcome& o, int attempt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(work_mu) {
    if (o.retry_later && attempt < options_.busy_retries && !stop_requested_) {
      absl::Duration backoff = options_.busy_backoff * (1 << attempt);
      retries.push_back({item, env_->Now() + backoff, attempt + 1});
      return;
    }
    if (!o.success) all_ok = false;
    progress_.AddDone();
  };
  auto worker = [&]() {
    while (true) {
      std::vector<WalkItem> partition;
      absl::optional<Retry> retry;
      if (!next_work(&partition, &retry)) return;
      if (retry.has_value()) {
        DbOutcome o = replicator_.ReplicateDb(retry->item.partition, retry->item.db_file, retry->item.node_id);
        absl::MutexLock lock(&work_mu);
        --in_flight;
        account(retry->item, o, retry->attempt);
      } else {
        std::vector<size_t> rest;
        std::vector<DbOutcome> outcomes = partitions_.ReplicateFastPath(partition, &rest);
        absl::MutexLock lock(&work_mu);
        --in_flight;
        std::vector<bool> deferred(partition.size(), false);
        for (size_t k : rest) {
          deferred[k] = true;
          singles.push_back(std::move(partition[k]));
        }
        for (size_t k = 0; k < partition.size(); ++k) {
          if (!deferred[k]) account(partition[k], outcomes[k], 0);
        }
      }
      if (metrics_ != nullptr) {
        ProgressSnapshot p = progress_.Snapshot();
        metrics_->SetProgress(p.done, std::max(p.total, p.done));
      }
    }
  };
  // Progress lines at a steady interval while the workers run.
  absl::Notification finished;
  std::thread progress([&]() {
    while (!finished.WaitForNotificationWithTimeout(options_.progress_interval)) LOG(INFO) << progress_.Line();
  });
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) workers.emplace_back(worker);
  for (auto& t : workers) t.join();
  finished.Notify();
  progress.join();
  if (!retries.empty() || !singles.empty()) all_ok = false;  // Stopped with work left.
  // Swift's replicate_reconcilers: the reconciler containers fed in this
  // pass go to their primaries now.
  std::vector<PostReplicate::Reconciler> reconcilers = post_.TakeReconcilers();
  if (!reconcilers.empty()) LOG(INFO) << "Replicating " << reconcilers.size() << " reconciler containers";
  for (const PostReplicate::Reconciler& r : reconcilers) {
    if (stop_requested_) break;
    DbOutcome o = replicator_.ReplicateDb(r.partition, r.db_file, r.node_id);
    if (!o.success) all_ok = false;
  }

  const double end = env_->NowSeconds();
  LOG(INFO) << "Replication run OVER";
  if (options_.handoffs_only || options_.handoff_delete > 0) {
    LOG(WARNING) << "Finished replication pass with handoffs_only and/or handoffs_delete enabled. If these are no "
                    "longer required, disable them.";
  }
  PassStats snapshot = stats_.Snapshot();
  for (const std::string& line : SummaryLines(snapshot, end - start)) LOG(INFO) << line;
  absl::Status recon = MakeDirsDurably(env_, options_.recon_cache_path);
  if (recon.ok()) recon = WriteReplicationRecon(options_.recon_cache_path, options_.type, snapshot, end);
  if (!recon.ok()) LOG(WARNING) << "could not write recon cache: " << recon;
  if (metrics_ != nullptr) metrics_->PassFinished(end - start, end);
  {
    absl::MutexLock lock(&mu_);
    current_.running = false;
    current_.end_time = end;
    ProgressSnapshot p = progress_.Snapshot();
    current_.databases_done = p.done;
    current_.databases_total = std::max(p.total, p.done);
    current_.listing_done = p.total_final;
    current_.stats = snapshot;
    current_.succeeded = all_ok.load() && snapshot.failure == 0;
    last_ = current_;
    ++passes_completed_;
  }
  return absl::OkStatus();
}

PassProgress ReplicationPass::Current() const {
  absl::MutexLock lock(&mu_);
  PassProgress p = current_;
  if (p.running) {
    p.stats = stats_.Snapshot();
    ProgressSnapshot snap = progress_.Snapshot();
    p.databases_done = snap.done;
    p.databases_total = std::max(snap.total, snap.done);
    p.listing_done = snap.total_final;
  }
  return p;
}

PassProgress ReplicationPass::Last() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

int64_t ReplicationPass::passes_completed() const {
  absl::MutexLock lock(&mu_);
  return passes_completed_;
}

}  // namespace dbrepl::agent
