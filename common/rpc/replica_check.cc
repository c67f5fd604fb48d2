#include "common/rpc/replica_check.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/replication/plan.h"

namespace dbrepl {
namespace {

int64_t PointFor(const google::protobuf::RepeatedPtrField<v1::SyncPoint>& points, const std::string& id) {
  for (const v1::SyncPoint& p : points) {
    if (p.remote_id() == id) return p.sync_point();
  }
  return -1;
}

const char* StateName(v1::InspectedReplica::State s) {
  switch (s) {
    case v1::InspectedReplica::OK:
      return "ok";
    case v1::InspectedReplica::SHARDED:
      return "sharded";
    case v1::InspectedReplica::UNREADABLE:
      return "unreadable";
    default:
      return "unknown";
  }
}

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kNoChange:
      return "no_change";
    case Mode::kHashmatch:
      return "hashmatch";
    case Mode::kRsyncThenMerge:
      return "rsync_then_merge";
    case Mode::kUsync:
      return "usync";
  }
  return "unknown";
}

}  // namespace

std::string PeerAddressOf(const RingDevice& d) {
  return d.replication_ip.find(':') != std::string::npos ? absl::StrCat("[", d.replication_ip, "]:", d.replication_port)
                                                         : absl::StrCat(d.replication_ip, ":", d.replication_port);
}

ReplicaInventory AskEveryDevice(const Ring& ring, DbType type, const std::vector<int64_t>& partitions,
                                const std::vector<std::string>& hashes, const AskDevice& ask) {
  ReplicaInventory inv;
  for (const auto& d : ring.devices()) {
    if (!d.has_value()) continue;
    v1::InspectReplicasRequest req;
    req.set_type(type == DbType::kAccount ? v1::ACCOUNT : v1::CONTAINER);
    req.set_device(d->device);
    for (int64_t p : partitions) req.add_partitions(p);
    for (const std::string& h : hashes) req.add_hashes(h);
    absl::StatusOr<std::vector<v1::InspectedReplica>> got = ask(*d, req);
    if (!got.ok()) {
      inv.unreachable.push_back(absl::StrCat(d->device, " (", PeerAddressOf(*d), "): ", got.status().ToString()));
      continue;
    }
    for (v1::InspectedReplica& r : *got) {
      const auto key = std::make_pair(r.partition(), r.hash());
      inv.found[key][d->id] = std::move(r);
    }
  }
  return inv;
}

v1::DbCheck JudgeReplicas(const Ring& ring, int64_t partition, const std::string& hash,
                          const std::map<int, v1::InspectedReplica>& held, int per_diff) {
  v1::DbCheck db;
  db.set_partition(partition);
  db.set_hash(hash);
  const std::vector<RingNode> primaries = ring.GetPartNodes(partition);
  std::set<int> primary_ids;
  for (const RingNode& n : primaries) primary_ids.insert(n.id);
  bool sharded = false, unreadable = false;
  std::vector<const v1::ReplicationInfo*> ok;
  for (const auto& [id, r] : held) {
    if (r.state() == v1::InspectedReplica::OK) ok.push_back(&r.info());
    sharded = sharded || r.state() == v1::InspectedReplica::SHARDED;
    unreadable = unreadable || r.state() == v1::InspectedReplica::UNREADABLE;
  }
  if (!ok.empty()) {
    db.set_account(ok.front()->account());
    db.set_container(ok.front()->container());
  }

  auto describe = [&](int id, const std::string& role) {
    const RingDevice* d = ring.device(id);
    v1::ReplicaReport* j = db.add_replicas();
    j->set_device(d != nullptr ? d->device : absl::StrCat("#", id));
    if (d != nullptr) j->set_node(PeerAddressOf(*d));
    j->set_role(role);
    auto it = held.find(id);
    if (it == held.end()) {
      j->set_state("missing");
      return;
    }
    const v1::InspectedReplica& r = it->second;
    j->set_state(StateName(r.state()));
    if (r.state() == v1::InspectedReplica::OK) {
      const v1::ReplicationInfo& i = r.info();
      j->set_id(i.id());
      j->set_max_row(i.max_row());
      j->set_hash(i.hash());
      j->set_count(i.count());
      j->set_storage_policy_index(i.storage_policy_index());
      j->set_put_timestamp(i.put_timestamp());
      j->set_delete_timestamp(i.delete_timestamp());
      j->set_pending_bytes(r.pending_bytes());
    }
    j->set_detail(r.detail());
  };
  for (const RingNode& n : primaries) describe(n.id, absl::StrCat("primary ", n.index));
  for (const auto& [id, r] : held) {
    if (primary_ids.count(id) == 0) describe(id, "handoff");
  }

  std::set<std::string> differences;
  for (size_t k = 1; k < ok.size(); ++k) {
    const v1::ReplicationInfo& a = *ok[0];
    const v1::ReplicationInfo& b = *ok[k];
    if (a.hash() != b.hash()) differences.insert("rows");
    if (a.metadata() != b.metadata()) differences.insert("metadata");
    if (a.created_at() != b.created_at() || a.put_timestamp() != b.put_timestamp() ||
        a.delete_timestamp() != b.delete_timestamp()) {
      differences.insert("timestamps");
    }
    if (a.storage_policy_index() != b.storage_policy_index()) differences.insert("storage_policy_index");
  }
  bool missing = false, handoff = false;
  for (const RingNode& n : primaries) missing = missing || held.count(n.id) == 0;
  for (const auto& [id, r] : held) handoff = handoff || primary_ids.count(id) == 0;
  if (missing) differences.insert("missing_replica");
  if (handoff) differences.insert("on_handoff");
  if (unreadable) differences.insert("unreadable");
  for (const std::string& d : differences) db.add_differences(d);

  // Each holder pushes to its targets, as the agent does.
  for (const auto& [from, r] : held) {
    if (r.state() != v1::InspectedReplica::OK) continue;
    const bool primary = primary_ids.count(from) > 0;
    for (const RingNode& to : PushTargets(primaries, from)) {
      if (to.id == from) continue;
      v1::NextStep* step = db.add_next_pass();
      const RingDevice* d = ring.device(from);
      step->set_from(d != nullptr ? d->device : absl::StrCat("#", from));
      step->set_to(to.device);
      step->set_then_remove(!primary);
      auto peer = held.find(to.id);
      if (peer == held.end()) {
        step->set_action("rsync");
      } else if (peer->second.state() != v1::InspectedReplica::OK) {
        step->set_action(peer->second.state() == v1::InspectedReplica::SHARDED ? "skip_sharded" : "unknown");
      } else {
        const v1::InspectedReplica& remote = peer->second;
        SyncFacts f;
        f.local_max_row = r.info().max_row();
        f.local_hash = r.info().hash();
        f.local_point = PointFor(r.outgoing(), remote.info().id());
        f.remote_point = PointFor(remote.incoming(), r.info().id());
        f.remote_max_row = remote.info().max_row();
        f.remote_hash = remote.info().hash();
        ModeChoice c = ChooseMode(f, per_diff);
        step->set_action(ModeName(c.mode));
        if (c.mode == Mode::kUsync) {
          step->set_rows_at_most(std::max<int64_t>(0, f.local_max_row - std::max<int64_t>(0, c.usync_from)));
        }
      }
    }
  }
  db.set_verdict(sharded ? v1::DbCheck::SHARDED
                         : differences.empty() ? v1::DbCheck::CONSISTENT : v1::DbCheck::DIFFERS);
  return db;
}

}  // namespace dbrepl
