#include "agent/partition_replicator.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/replication/plan.h"
#include "common/db/state_cache.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/hash_path.h"
#include "common/paths.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl::agent {

namespace {

bool IsPrimary(const Ring& ring, int64_t partition, int node_id) {
  std::vector<RingNode> primaries = ring.GetPartNodes(partition);
  return std::any_of(primaries.begin(), primaries.end(), [&](const RingNode& n) { return n.id == node_id; });
}

}  // namespace

// One database on the fast path.
struct PartitionReplicator::Candidate {
  size_t index;  // Into the chunk's items.
  size_t group;  // Into the chunk's partitions.
  std::unique_ptr<ReplicationLocks::Held> held;
  StateCache::Result read;
  std::vector<PeerResult> results;  // Per target; kError until answered.
  std::vector<bool> ok;             // Per target: the result succeeded.
  std::vector<std::string> detail;  // Per target, for a failure.
  std::vector<std::pair<std::string, int64_t>> hashmatch_points;  // (peer id, point) to record.
  // Per target, for a kDiff decided in the handshake: from which row, to whom.
  std::vector<int64_t> usync_from;
  std::vector<std::string> usync_remote_id;
  std::vector<int64_t> rows_sent;
  bool fallback = false;
};

// One partition of the chunk on the fast path.
struct PartitionReplicator::Group {
  int64_t partition;
  std::vector<RingNode> targets;
  std::vector<bool> different_region;  // Per target.
  size_t first = 0, end = 0;           // Its candidates: [first, end).
};

// The databases one peer device lacks, from one local device.
struct PartitionReplicator::Batch {
  RingNode node;
  bool different_region = false;
  std::vector<std::pair<Candidate*, size_t>> members;  // (candidate, its target index).
};

PartitionReplicator::PartitionReplicator(const ReplicatorOptions& options, ReloadingRing* ring, PeerClient* peers,
                                         RsyncRunner* rsync, DbReplicator* per_db, OutcomeRecorder* recorder,
                                         ReplicationLocks* locks, StateCache* cache, Env* env)
    : options_(options),
      ring_(ring),
      peers_(peers),
      rsync_(rsync),
      per_db_(per_db),
      recorder_(recorder),
      locks_(locks),
      cache_(cache),
      env_(env),
      hash_path_check_(HashPathCheck(options.hash_config)) {}

std::vector<DbOutcome> PartitionReplicator::Replicate(const std::vector<WalkItem>& items) {
  std::vector<size_t> rest;
  std::vector<DbOutcome> outcomes = ReplicateFastPath(items, &rest);
  for (size_t i : rest) outcomes[i] = per_db_->ReplicateDb(items[i].partition, items[i].db_file, items[i].node_id);
  return outcomes;
}

std::vector<DbOutcome> PartitionReplicator::ReplicateFastPath(const std::vector<WalkItem>& items,
                                                              std::vector<size_t>* per_db) {
  std::vector<DbOutcome> outcomes(items.size());
  if (items.empty()) return outcomes;
  std::vector<bool> done(items.size(), false);
  std::shared_ptr<const Ring> ring = ring_->Get();
  LocalStates local = ReadStatesFromLocalPeer(items, *ring);
  std::vector<Group> groups;
  std::vector<Candidate> candidates;
  for (size_t begin = 0; begin < items.size();) {
    size_t end = begin;
    while (end < items.size() && items[end].partition == items[begin].partition &&
           items[end].node_id == items[begin].node_id) {
      ++end;
    }
    Gather(items, begin, end, *ring, &local, &groups, &candidates, &outcomes, &done);
    begin = end;
  }
  Handshake(items, groups, &candidates);

  // Whole files for the peers that lack them: one batch per (local device,
  // peer device) across every partition of the chunk.
  std::map<std::tuple<std::string, std::string, int, std::string>, Batch> batches;
  for (Candidate& c : candidates) {
    const Group& g = groups[c.group];
    if (c.fallback || std::find(c.results.begin(), c.results.end(), PeerResult::kError) != c.results.end()) {
      continue;
    }
    for (size_t t = 0; t < g.targets.size(); ++t) {
      if (c.results[t] != PeerResult::kRsync) continue;
      const RingNode& node = g.targets[t];
      Batch& b = batches[{DeviceDirOf(options_.devices, items[c.index].db_file), node.replication_ip,
                          node.replication_port, node.device}];
      b.node = node;
      b.different_region = g.different_region[t];
      b.members.emplace_back(&c, t);
    }
  }
  for (auto& [key, batch] : batches) Ship(items, batch);

  // Rows a peer lacks, streamed as Sync would have led to.
  for (Candidate& c : candidates) {
    if (c.fallback || std::find(c.results.begin(), c.results.end(), PeerResult::kError) != c.results.end()) {
      continue;
    }
    const Group& g = groups[c.group];
    for (size_t t = 0; t < g.targets.size(); ++t) {
      if (c.results[t] != PeerResult::kDiff) continue;
      NodeOutcome o = per_db_->UsyncTo(g.targets[t], items[c.index].db_file, g.partition, c.usync_from[t],
                                       c.usync_remote_id[t], c.read.state.id, &c.read.identity);
      c.results[t] = o.result;
      c.ok[t] = o.success;
      c.detail[t] = o.detail;
      c.rows_sent[t] = o.rows_sent;
    }
  }

  for (Candidate& c : candidates) {
    const size_t i = c.index;
    const Group& g = groups[c.group];
    const std::string& db_file = items[i].db_file;
    if (c.fallback || std::find(c.results.begin(), c.results.end(), PeerResult::kError) != c.results.end()) {
      c.read.broker.reset();
      c.held.reset();  // ReplicateDb takes it again.
      continue;        // Per database, below.
    }
    if (!c.hashmatch_points.empty()) {
      std::vector<SyncRecord> points;
      for (auto& [id, point] : c.hashmatch_points) points.push_back(SyncRecord{id, point, 0});
      absl::Status recorded = [&]() -> absl::Status {
        std::unique_ptr<DatabaseBroker> broker = std::move(c.read.broker);
        if (broker == nullptr) {
          BrokerOptions bo;
          bo.lock_timeout = absl::Seconds(30);
          absl::StatusOr<std::unique_ptr<DatabaseBroker>> b = DatabaseBroker::Open(options_.type, db_file, bo);
          if (!b.ok()) return b.status();
          broker = *std::move(b);
        }
        return broker->MergeSyncs(points, /*incoming=*/false);
      }();
      if (!recorded.ok()) {
        c.held.reset();
        continue;  // Per database.
      }
    }
    recorder_->Attempted();
    DbOutcome& out = outcomes[i];
    out.ring_partition = g.partition;
    out.success = true;
    std::set<std::pair<std::string, std::string>> failed;
    for (size_t t = 0; t < g.targets.size(); ++t) {
      NodeOutcome o;
      o.node = g.targets[t];
      o.result = c.results[t];
      o.success = c.ok[t];
      o.detail = c.detail[t];
      o.rows_sent = c.rows_sent[t];
      out.success = out.success && o.success;
      if (o.result == PeerResult::kPeerBusy) out.retry_later = true;
      if (!o.success) failed.emplace(g.targets[t].replication_ip, g.targets[t].device);
      recorder_->PeerDone(o, DbLogPrefix(options_.type, options_.devices, db_file, &g.targets[t]));
      recorder_->RowsSent(o.rows_sent);
      out.peers.push_back(std::move(o));
    }
    std::set<std::pair<std::string, std::string>> distinct;
    for (const RingNode& n : g.targets) distinct.emplace(n.replication_ip, n.device);
    int64_t successes = 0;
    for (const auto& d : distinct) successes += failed.count(d) == 0 ? 1 : 0;
    recorder_->Targets(successes, std::vector<std::pair<std::string, std::string>>(failed.begin(), failed.end()));
    PostReplicate* post = per_db_->post_replicate();
    if (post != nullptr && (c.read.state.multiple_policies || c.read.state.container_sync)) {
      BrokerOptions bo;
      bo.lock_timeout = absl::Seconds(30);
      absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(options_.type, db_file, bo);
      absl::StatusOr<ReplicationInfo> info =
          broker.ok() ? (*broker)->GetReplicationInfo() : absl::StatusOr<ReplicationInfo>(broker.status());
      if (info.ok()) {
        post->AfterReplicate(**broker, *info, db_file, static_cast<int>(std::count(c.ok.begin(), c.ok.end(), true)),
                             static_cast<int>(c.ok.size()));
      } else {
        LOG(WARNING) << DbLogPrefix(options_.type, options_.devices, db_file, nullptr)
                     << "post-replicate work skipped: " << info.status();
      }
    }
    done[i] = true;
  }
  candidates.clear();  // Releases the remaining locks before the per-database path.
  for (size_t i = 0; i < items.size(); ++i) {
    if (!done[i]) per_db->push_back(i);
  }
  return outcomes;
}

PartitionReplicator::LocalStates PartitionReplicator::ReadStatesFromLocalPeer(const std::vector<WalkItem>& items,
                                                                            const Ring& ring) {
  LocalStates local;
  local.cached.resize(items.size());
  local.corrupt.resize(items.size());
  if (!options_.states_from_peer) return local;
  // By local device: the items on the fast path (a primary's) whose cached
  // state is not current.
  std::map<int, std::vector<size_t>> missing;
  int64_t checked_partition = -1, checked_node = -1;
  bool primary = false;
  for (size_t i = 0; i < items.size(); ++i) {
    const WalkItem& item = items[i];
    if (item.partition != checked_partition || item.node_id != checked_node) {
      checked_partition = item.partition;
      checked_node = item.node_id;
      primary = IsPrimary(ring, item.partition, item.node_id);
    }
    if (!primary) continue;
    absl::StatusOr<StateCache::Result> looked = cache_->Lookup(item.db_file);
    if (!looked.ok()) continue;  // Gather says why.
    if (looked->from_cache) {
      local.cached[i] = *std::move(looked);
      continue;
    }
    missing[item.node_id].push_back(i);
  }
  for (const auto& [node_id, indexes] : missing) {
    const RingDevice* device = ring.device(node_id);
    if (device == nullptr) continue;
    const PeerAddress peer{device->replication_ip, device->replication_port};
    const std::string address = peer.ToString();
    {
      absl::MutexLock lock(&mu_);
      if (without_read_states_.count(address) > 0) continue;
    }
    v1::ReadStatesRequest request;
    request.set_type(ToProto(options_.type));
    request.set_device(device->device);
    request.set_hash_path_check(hash_path_check_);
    for (size_t i : indexes) {
      v1::ReadStatesRequest::Db* db = request.add_dbs();
      db->set_partition(items[i].partition);
      db->set_hash(HashOf(items[i].db_file));
    }
    absl::StatusOr<v1::ReadStatesResponse> response = peers_->ReadStates(peer, request);
    if (!response.ok()) {
      // No such RPC, or other secrets (or none): for good. An unmounted
      // device (also FAILED_PRECONDITION) is for now only.
      if (absl::IsUnimplemented(response.status()) ||
          (absl::IsFailedPrecondition(response.status()) && !IsDeviceUnavailable(response.status()))) {
        LOG(WARNING) << "the peer on this node (" << address << ") cannot give database states ("
                     << response.status() << "): reading them from SQLite from now on";
        absl::MutexLock lock(&mu_);
        without_read_states_.insert(address);
      } else {
        VLOG(1) << "ReadStates to " << address << ": " << response.status();
      }
      continue;
    }
    for (size_t k = 0; k < indexes.size(); ++k) {
      const v1::LocalDbState& answer = response->dbs(static_cast<int>(k));
      if (answer.code() != 0) {
        absl::Status s = FromStatusFields(answer.code(), answer.reason(), answer.message());
        if (GetReason(s) == ErrorReason::kDbCorrupt) local.corrupt[indexes[k]] = s.ToString();
        continue;  // Gather reads it (and finds what the peer found).
      }
      absl::StatusOr<CachedState> state = FromProto(answer);
      if (!state.ok()) continue;
      cache_->Store(items[indexes[k]].db_file, FromProto(answer.identity()), *state);
    }
  }
  return local;
}

void PartitionReplicator::Gather(const std::vector<WalkItem>& items, size_t begin, size_t end, const Ring& ring,
                                 LocalStates* local, std::vector<Group>* groups, std::vector<Candidate>* candidates,
                                 std::vector<DbOutcome>* outcomes, std::vector<bool>* done) {
  const int64_t partition = items[begin].partition;
  const int node_id = items[begin].node_id;
  std::vector<RingNode> primaries = ring.GetPartNodes(partition);
  const bool primary = std::any_of(primaries.begin(), primaries.end(), [&](const RingNode& n) { return n.id == node_id; });
  std::vector<RingNode> targets = PushTargets(primaries, node_id);
  targets.erase(std::remove_if(targets.begin(), targets.end(), [&](const RingNode& n) { return n.id == node_id; }),
                targets.end());
  // Handoffs and odd rings take Swift's path (removal, handoff search).
  if (!primary || targets.empty()) return;

  const size_t group = groups->size();
  Group g;
  g.partition = partition;
  g.targets = targets;
  const RingDevice* local_dev = ring.device(node_id);
  for (const RingNode& n : targets) g.different_region.push_back(local_dev != nullptr && local_dev->region != n.region);
  groups->push_back(std::move(g));

  const double now = env_->NowSeconds();
  BrokerOptions bo;
  bo.lock_timeout = absl::Seconds(30);
  auto part_key = [&](const ReplicationInfo& info) -> uint32_t {
    return PartitionKey(options_.hash_config, info.account, options_.type == DbType::kContainer ? info.container : "");
  };
  const size_t first = candidates->size();
  for (size_t i = begin; i < end; ++i) {
    const std::string hash = HashOf(items[i].db_file);
    absl::StatusOr<ReplicationLocks::Held> held = locks_->TryLock(DeviceDirOf(options_.devices, items[i].db_file), hash);
    if (!held.ok()) {
      (*outcomes)[i].local_action = LocalAction::kBusy;
      (*outcomes)[i].success = true;
      recorder_->Local(LocalAction::kBusy, DbLogPrefix(options_.type, options_.devices, items[i].db_file, nullptr),
                       held.status().message());
      (*done)[i] = true;
      continue;
    }
    Candidate c;
    c.index = i;
    c.group = group;
    c.held = std::make_unique<ReplicationLocks::Held>(*std::move(held));
    // Nothing is reclaimed here: a database whose state says reclaiming is
    // due goes the per-database way, which reclaims as Swift does.
    std::string corrupt = std::move(local->corrupt[i]);
    absl::StatusOr<StateCache::Result> read = absl::DataLossError(corrupt);
    if (corrupt.empty()) {
      read = local->cached[i].has_value() ? *std::move(local->cached[i])
                                          : cache_->Read(options_.type, items[i].db_file, bo, nullptr, part_key);
      if (!read.ok() && GetReason(read.status()) == ErrorReason::kDbCorrupt) corrupt = read.status().ToString();
    }
    if (!corrupt.empty()) {
      // Found corrupt and moved away, by this read or by the node's peer's
      // (the per-database path would only find it gone).
      recorder_->Attempted();
      (*outcomes)[i].local_action = LocalAction::kQuarantined;
      recorder_->Unreadable(LocalAction::kQuarantined,
                            DbLogPrefix(options_.type, options_.devices, items[i].db_file, nullptr), corrupt,
                            primaries);
      (*done)[i] = true;
      continue;
    }
    if (!read.ok() || read->state.hash.size() != 32 || read->state.id.empty()) continue;  // Per database.
    // Swift's sharding in play: the per-database path says so and leaves it.
    if (read->state.sharding || Basename(items[i].db_file) != hash + ".db") continue;
    if (read->state.reclaim.Due(options_.reclaim_age) <= now) continue;  // Reclaim due, or a reclaimable database: per database.
    if (static_cast<int64_t>(read->state.tag >> ring.part_shift()) != partition) continue;  // Misplaced.
    c.read = *std::move(read);
    // Not kept open across the chunk: a connection holds its page cache
    // (a chunk is dozens of databases per worker). A hash match reopens.
    c.read.broker.reset();
    c.results.assign(targets.size(), PeerResult::kError);
    c.ok.assign(targets.size(), false);
    c.detail.assign(targets.size(), "");
    c.usync_from.assign(targets.size(), -1);
    c.usync_remote_id.assign(targets.size(), "");
    c.rows_sent.assign(targets.size(), 0);
    candidates->push_back(std::move(c));
  }

  (*groups)[group].first = first;
  (*groups)[group].end = candidates->size();
}

void PartitionReplicator::Handshake(const std::vector<WalkItem>& items, const std::vector<Group>& groups,
                                    std::vector<Candidate>* candidates) {
  // Every (group, target) by peer device, in order of first appearance.
  using PeerKey = std::tuple<std::string, int, std::string>;
  std::vector<PeerKey> order;
  std::map<PeerKey, std::vector<std::pair<size_t, size_t>>> by_peer;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    if (g.first == g.end) continue;
    for (size_t t = 0; t < g.targets.size(); ++t) {
      PeerKey key{g.targets[t].replication_ip, g.targets[t].replication_port, g.targets[t].device};
      auto [it, added] = by_peer.try_emplace(key);
      if (added) order.push_back(key);
      it->second.emplace_back(gi, t);
    }
  }
  // Within the peer's limits for one SyncPartitions call.
  constexpr size_t kMaxPartitionsPerCall = 1024;
  constexpr int kMaxDbsPerCall = 10000;
  struct Call {
    PeerAddress peer;
    std::string node_name;
    std::vector<v1::SyncPartitionRequest> requests;
    std::vector<std::pair<size_t, size_t>> sent;  // (group, target) per request.
    std::vector<std::vector<Candidate*>> asked;
    std::vector<absl::StatusOr<v1::SyncPartitionResponse>> answers;
  };
  std::vector<Call> calls;
  for (const PeerKey& key : order) {
    const std::vector<std::pair<size_t, size_t>>& pairs = by_peer[key];
    for (size_t k = 0; k < pairs.size();) {
      Call call;
      int dbs = 0;
      for (; k < pairs.size() && call.requests.size() < kMaxPartitionsPerCall; ++k) {
        auto [gi, t] = pairs[k];
        const Group& g = groups[gi];
        v1::SyncPartitionRequest req;
        req.set_type(ToProto(options_.type));
        req.set_device(g.targets[t].device);
        req.set_partition(g.partition);
        std::vector<Candidate*> these;
        for (size_t ci = g.first; ci < g.end; ++ci) {
          Candidate& c = (*candidates)[ci];
          const CachedState& st = c.read.state;
          v1::DbDigest* d = req.add_dbs();
          d->set_hash(HashOf(items[c.index].db_file));
          d->set_id(st.id);
          d->set_max_row(st.max_row);
          d->set_rows_hash(st.hash);
          d->set_state_digest(std::string(reinterpret_cast<const char*>(st.state_digest.data()), st.state_digest.size()));
          these.push_back(&c);
        }
        if (these.empty()) continue;
        if (!call.requests.empty() && dbs + req.dbs_size() > kMaxDbsPerCall) break;  // The next call takes it.
        dbs += req.dbs_size();
        call.requests.push_back(std::move(req));
        call.sent.emplace_back(gi, t);
        call.asked.push_back(std::move(these));
      }
      if (call.requests.empty()) continue;
      const RingNode& node = groups[call.sent.front().first].targets[call.sent.front().second];
      call.peer = PeerAddress{node.replication_ip, node.replication_port};
      call.node_name = NodeName(node);
      calls.push_back(std::move(call));
    }
  }
  // The peers at once (a few at a time: a chunk may touch many devices in
  // a large ring): each reads what it has not cached, and a chunk's
  // handshake then takes about as long as its slowest peer, not their sum.
  constexpr size_t kCallsAtOnce = 4;
  std::atomic<size_t> next{0};
  auto run = [this, &calls, &next] {
    for (size_t i; (i = next.fetch_add(1)) < calls.size();) {
      calls[i].answers = peers_->SyncPartitions(calls[i].peer, calls[i].requests);
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < std::min(calls.size(), kCallsAtOnce); ++i) threads.emplace_back(run);
  run();
  for (std::thread& th : threads) th.join();
  // Applied in order, one at a time (a candidate's results are per target,
  // its fallback and hash-match points are not).
  for (Call& call : calls) {
    for (size_t r = 0; r < call.requests.size(); ++r) {
      const Group& g = groups[call.sent[r].first];
      if (r >= call.answers.size() || !call.answers[r].ok()) {
        // Unreachable, unmounted (a handoff is needed), at capacity: Swift's
        // path decides, database by database.
        VLOG(1) << ServerType(options_.type) << " partition " << g.partition << " peer " << call.node_name
                << ": SyncPartition: "
                << (r < call.answers.size() ? call.answers[r].status() : absl::InternalError("no answer"));
        for (Candidate* c : call.asked[r]) c->fallback = true;
        continue;
      }
      Apply(call.sent[r].second, call.asked[r], *call.answers[r]);
    }
  }
}

void PartitionReplicator::Apply(size_t t, const std::vector<Candidate*>& asked,
                                const v1::SyncPartitionResponse& resp) {
  for (size_t k = 0; k < asked.size(); ++k) {
    Candidate& c = *asked[k];
    const v1::PeerDbState& a = resp.dbs(static_cast<int>(k));
    const CachedState& s = c.read.state;
    if (a.presence() == v1::PeerDbState::MISSING) {
      c.results[t] = PeerResult::kRsync;  // Shipped with the others it lacks.
      continue;
    }
    if (a.presence() != v1::PeerDbState::PRESENT || !a.state_equal()) {
      c.fallback = true;
      continue;
    }
    // Swift's _in_sync, then its hash match.
    if (std::max(a.point(), s.Point(a.id(), /*incoming=*/false)) >= s.max_row) {
      c.results[t] = PeerResult::kNoChange;
      c.ok[t] = true;
    } else if (a.rows_hash_equal()) {
      c.ok[t] = true;
      // The peer holds our rows (equal hashes, each read in one snapshot)
      // but could not raise its point: ours records what it holds.
      c.results[t] = PeerResult::kHashmatch;
      c.hashmatch_points.emplace_back(a.id(), s.max_row);
    } else {
      // Rows differ, everything else is equal: the facts Sync would give
      // are here (the peer's point for us, ours for it, both max_rows).
      SyncFacts f;
      f.local_max_row = s.max_row;
      f.local_hash = s.hash;
      f.local_point = s.Point(a.id(), /*incoming=*/false);
      f.remote_point = a.point();
      f.remote_max_row = a.max_row();
      f.remote_hash = "";  // Not equal (rows_hash_equal is false).
      ModeChoice m = ChooseMode(f, options_.per_diff);
      if (m.mode == Mode::kUsync) {
        c.results[t] = PeerResult::kDiff;
        c.usync_from[t] = m.usync_from;
        c.usync_remote_id[t] = a.id();
      } else {
        c.fallback = true;  // rsync_then_merge: Swift's path.
      }
    }
  }
}

void PartitionReplicator::Ship(const std::vector<WalkItem>& items, Batch& batch) {
  const RingNode& node = batch.node;
  const bool different_region = batch.different_region;
  auto fail_all = [&](const std::string& why) {
    for (auto& [c, t] : batch.members) c->detail[t] = why;
  };
  // The files as they are now (a copy made while one changes is torn).
  std::vector<absl::StatusOr<FileStamp>> before;
  std::vector<std::pair<std::string, std::string>> files;
  for (auto& [c, t] : batch.members) {
    const std::string& db_file = items[c->index].db_file;
    before.push_back(ReadFileStamp(db_file));
    files.emplace_back(db_file, c->read.state.id);
  }
  const std::string device_dir = DeviceDirOf(options_.devices, items[batch.members.front().first->index].db_file);
  absl::BitGen gen;
  const std::string staging =
      absl::StrCat(device_dir, "/tmp/", kOutboxPrefix, absl::Uniform<uint64_t>(gen));
  if (absl::Status s = rsync_->PushBatch(files, node, staging, different_region); !s.ok()) {
    fail_all(s.ToString());
    return;
  }
  v1::CompleteRsyncBatchRequest install;
  std::vector<std::pair<Candidate*, size_t>> installed;
  for (size_t k = 0; k < batch.members.size(); ++k) {
    auto [c, t] = batch.members[k];
    const std::string& db_file = items[c->index].db_file;
    absl::StatusOr<FileStamp> after = ReadFileStamp(db_file);
    if (!before[k].ok() || !after.ok() || *before[k] != *after || before[k]->journal || after->journal) {
      // Changed during the copy: again, alone, with writers locked out.
      absl::Status again = [&]() -> absl::Status {
        BrokerOptions bo;
        absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(options_.type, db_file, bo);
        if (!broker.ok()) return broker.status();
        if ((*broker)->HasMoved()) return absl::UnavailableError("the local database was replaced");
        absl::StatusOr<FileInfo> id_now = env_->Stat(db_file);
        if (!id_now.ok() || static_cast<uint64_t>(c->read.identity.ino) != id_now->ino) {
          return absl::UnavailableError("the local database was replaced during the copy");
        }
        RETURN_IF_ERROR((*broker)->Lock());
        absl::StatusOr<std::string> dest = rsync_->Destination(node, c->read.state.id);
        absl::Status pushed =
            dest.ok() ? rsync_->Push(db_file, *dest, /*whole_file=*/false, different_region) : dest.status();
        absl::Status unlocked = (*broker)->Unlock();
        RETURN_IF_ERROR(pushed);
        return unlocked;
      }();
      if (!again.ok()) {
        c->detail[t] = absl::StrCat("second rsync pass: ", again.ToString());
        continue;
      }
    }
    v1::CompleteRsyncRequest* r = install.add_installs();
    r->mutable_db()->set_type(ToProto(options_.type));
    r->mutable_db()->set_device(node.device);
    r->mutable_db()->set_partition(items[c->index].partition);
    r->mutable_db()->set_hash(HashOf(db_file));
    r->set_tmp_name(c->read.state.id);
    r->set_db_basename(Basename(db_file));
    installed.emplace_back(c, t);
  }
  if (installed.empty()) return;
  absl::StatusOr<v1::CompleteRsyncBatchResponse> resp = peers_->CompleteRsyncBatch(
      PeerAddress{node.replication_ip, node.replication_port}, install,
      options_.node_timeout * (1 + static_cast<int>(installed.size()) / 50));
  for (size_t k = 0; k < installed.size(); ++k) {
    auto [c, t] = installed[k];
    if (!resp.ok()) {
      c->detail[t] = absl::StrCat("CompleteRsyncBatch: ", resp.status().ToString());
      continue;
    }
    const v1::InstallResult& r = resp->results(static_cast<int>(k));
    if (r.code() == 0) {
      c->ok[t] = true;
      c->detail[t] = absl::StrCat("the peer installed it as ", r.new_id());
    } else {
      c->detail[t] = absl::StrCat("CompleteRsync: ", r.reason(), ": ", r.message());
    }
  }
}

}  // namespace dbrepl::agent
