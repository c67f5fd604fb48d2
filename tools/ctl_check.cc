// dbreplctl check: a consistency check of the cluster's database replicas
// (like Kudu's ksck; Swift has none). For a ring, some partitions or one
// account/container, it asks every ring device's peer what it holds (the
// read-only InspectReplicas stream, one per device) and reports, per
// database: which replicas exist (primaries and handoffs), how they differ
// (rows, hash, metadata, timestamps, policy), and what the next pass would
// do (Swift's decisions, the ones the agent makes: common/replication/plan.h).
// It changes nothing.
//
//   dbreplctl check /etc/swift/container.ring.gz [ACCOUNT [CONTAINER] | --partition P...] [--json]
//
// Exit status: 0 when every replica of every database agrees and sits on its
// primaries, 1 when any differs, is missing, sits on a handoff, cannot be
// read or a device cannot be asked, 2 for bad arguments. Sharded containers
// (which dbrepl leaves alone) are listed and counted, but do not fail it.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/db_type.h"
#include "common/errors.h"
#include "common/hash_path.h"
#include "common/ring/ring.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/replica_check.h"
#include "common/status_macros.h"
#include "dbrepl/v1/agent.grpc.pb.h"
#include "dbrepl/v1/peer.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "tools/ctl_channel.h"
#include "tools/ctl_command.h"
#include "tools/ctl_ring_args.h"

namespace dbrepl::ctl {
namespace {

using Json = nlohmann::ordered_json;

struct Totals {
  int64_t databases = 0, consistent = 0, differ = 0, missing_replicas = 0, handoff_copies = 0, sharded = 0,
          unreadable = 0;
};

Json TotalsJson(const Totals& t) {
  return Json{{"databases", t.databases},           {"consistent", t.consistent},
              {"differ", t.differ},                 {"missing_replicas", t.missing_replicas},
              {"handoff_copies", t.handoff_copies}, {"sharded", t.sharded},
              {"unreadable", t.unreadable}};
}

// The JSON form of a check (the keys scripts read; stable).
Json Render(const v1::DbCheck& c, Totals* totals) {
  Json db;
  db["partition"] = c.partition();
  db["hash"] = c.hash();
  if (!c.account().empty()) db["account"] = c.account();
  if (!c.container().empty()) db["container"] = c.container();
  Json replicas = Json::array();
  for (const v1::ReplicaReport& r : c.replicas()) {
    Json j;
    j["device"] = r.device();
    j["node"] = r.node();
    j["role"] = r.role();
    j["state"] = r.state();
    if (r.state() == "ok") {
      j["id"] = r.id();
      j["max_row"] = r.max_row();
      j["hash"] = r.hash();
      j["count"] = r.count();
      j["storage_policy_index"] = r.storage_policy_index();
      j["put_timestamp"] = r.put_timestamp();
      j["delete_timestamp"] = r.delete_timestamp();
      if (r.pending_bytes() > 0) j["pending_bytes"] = r.pending_bytes();
    }
    if (r.state() == "missing") ++totals->missing_replicas;
    if (r.role() == "handoff") ++totals->handoff_copies;
    if (!r.detail().empty()) j["detail"] = r.detail();
    replicas.push_back(std::move(j));
  }
  db["replicas"] = std::move(replicas);
  db["differences"] = Json(std::vector<std::string>(c.differences().begin(), c.differences().end()));
  Json next = Json::array();
  for (const v1::NextStep& s : c.next_pass()) {
    Json step;
    step["from"] = s.from();
    step["to"] = s.to();
    step["action"] = s.action();
    if (s.action() == "usync") step["rows_at_most"] = s.rows_at_most();
    if (s.then_remove()) step["then"] = "remove the handoff copy once every push succeeded";
    next.push_back(std::move(step));
  }
  db["next_pass"] = std::move(next);
  ++totals->databases;
  if (std::find(c.differences().begin(), c.differences().end(), "unreadable") != c.differences().end()) {
    ++totals->unreadable;
  }
  if (c.verdict() == v1::DbCheck::SHARDED) {
    ++totals->sharded;
    db["consistent"] = nullptr;
    db["note"] = "sharding in play: dbrepl leaves this container to Swift's replicator";
  } else {
    const bool consistent = c.verdict() == v1::DbCheck::CONSISTENT;
    db["consistent"] = consistent;
    ++(consistent ? totals->consistent : totals->differ);
  }
  return db;
}

void PrintHuman(const Json& db) {
  std::cout << db["partition"].get<int64_t>() << "/" << db["hash"].get<std::string>();
  if (db.contains("account")) {
    std::cout << " " << db["account"].get<std::string>();
    if (db.contains("container")) std::cout << "/" << db["container"].get<std::string>();
  }
  std::vector<std::string> diffs = db["differences"].get<std::vector<std::string>>();
  if (db["consistent"].is_null()) {
    std::cout << ": sharded (left alone)\n";
  } else {
    std::cout << ": " << (diffs.empty() ? "consistent" : "differs (" + absl::StrJoin(diffs, ", ") + ")") << "\n";
  }
  for (const Json& r : db["replicas"]) {
    std::cout << "  " << r["role"].get<std::string>() << " " << r["device"].get<std::string>() << " ("
              << r["node"].get<std::string>() << "): " << r["state"].get<std::string>();
    if (r.contains("max_row")) {
      std::cout << ", max_row " << r["max_row"].get<int64_t>() << ", count " << r["count"].get<int64_t>()
                << ", hash " << r["hash"].get<std::string>().substr(0, 8) << ", policy "
                << r["storage_policy_index"].get<int64_t>();
    }
    if (r.contains("pending_bytes")) std::cout << ", " << r["pending_bytes"].get<int64_t>() << " bytes pending";
    if (r.contains("detail")) std::cout << ": " << r["detail"].get<std::string>();
    std::cout << "\n";
  }
  for (const Json& s : db["next_pass"]) {
    const std::string action = s["action"].get<std::string>();
    if (action == "no_change" && !s.contains("then")) continue;
    std::cout << "  next pass: " << s["from"].get<std::string>() << " -> " << s["to"].get<std::string>() << ": "
              << action;
    if (s.contains("rows_at_most")) std::cout << " of at most " << s["rows_at_most"].get<int64_t>() << " rows";
    if (s.contains("then")) std::cout << ", then " << s["then"].get<std::string>();
    std::cout << "\n";
  }
}

absl::Status Check(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown(WithChannelFlags({"type", "swift_dir", "hash_path_prefix", "hash_path_suffix", "partition",
                                   "per_diff", "json", "timeout", "verbose"})));
  std::vector<std::string> pos = args.positional();
  if (pos.size() == 2 && pos[1].find('/') != std::string::npos) {
    std::vector<std::string> parts = absl::StrSplit(pos[1], absl::MaxSplits('/', 1));
    pos = {pos[0], parts[0], parts[1]};
  }
  if (pos.empty() || pos.size() > 3) return absl::InvalidArgumentError("check takes RING [ACCOUNT [CONTAINER]]");
  const std::string& path = pos[0];
  ASSIGN_OR_RETURN(DbType type, RingType(args, path));
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load(path));
  ASSIGN_OR_RETURN(int64_t per_diff, args.GetInt("per_diff", 1000));
  ASSIGN_OR_RETURN(double timeout, args.GetDouble("timeout", 60));

  std::vector<int64_t> partitions;
  std::vector<std::string> hashes;
  for (const std::string& text : args.GetAll("partition")) {
    int64_t p;
    if (!absl::SimpleAtoi(text, &p) || p < 0 || p >= ring->partition_count()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partition '", text, "' is not a partition in [0, ", ring->partition_count(), ")"));
    }
    partitions.push_back(p);
  }
  if (pos.size() > 1) {
    if (!partitions.empty()) return absl::InvalidArgumentError("give ACCOUNT [CONTAINER] or --partition, not both");
    const std::string container = pos.size() == 3 ? pos[2] : "";
    if (type == DbType::kContainer && container.empty()) {
      return absl::InvalidArgumentError("a container ring needs ACCOUNT CONTAINER");
    }
    if (type == DbType::kAccount && !container.empty()) {
      return absl::InvalidArgumentError("an account ring places accounts; give no CONTAINER");
    }
    ASSIGN_OR_RETURN(HashPathConfig hash_config, HashConfig(args));
    partitions = {ring->GetPart(hash_config, pos[1], container)};
    hashes = {HashPath(hash_config, pos[1], container)};
  }

  // Every ring device is asked: a copy may sit on any handoff.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  auto ask = [&](const RingDevice& d,
                 const v1::InspectReplicasRequest& req) -> absl::StatusOr<std::vector<v1::InspectedReplica>> {
    const std::string address = PeerAddressOf(d);
    std::shared_ptr<grpc::Channel>& channel = channels[address];
    if (channel == nullptr) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> opened = OpenChannel(args, address);
      if (!opened.ok()) return opened.status();
      channel = *std::move(opened);
    }
    auto stub = v1::ReplicationPeer::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(timeout)));
    auto reader = stub->InspectReplicas(&ctx, req);
    std::vector<v1::InspectedReplica> out;
    v1::InspectedReplica r;
    while (reader->Read(&r)) out.push_back(r);
    RETURN_IF_ERROR(FromGrpcStatus(reader->Finish(), ctx));
    return out;
  };
  ReplicaInventory inv = AskEveryDevice(*ring, type, partitions, hashes, ask);
  const std::vector<std::string>& unreachable = inv.unreachable;

  Totals totals;
  Json dbs = Json::array();
  for (const auto& [key, held] : inv.found) {
    dbs.push_back(Render(JudgeReplicas(*ring, key.first, key.second, held, static_cast<int>(per_diff)), &totals));
  }
  const bool ok = totals.differ == 0 && unreachable.empty();
  if (args.Has("json")) {
    Json out;
    out["type"] = std::string(ServerType(type));
    out["databases"] = std::move(dbs);
    out["totals"] = TotalsJson(totals);
    out["unreachable"] = unreachable;
    std::cout << out.dump(2) << "\n";
  } else {
    for (const Json& db : dbs) {
      if (args.Has("verbose") || !(db["consistent"].is_boolean() && db["consistent"].get<bool>())) PrintHuman(db);
    }
    for (const std::string& u : unreachable) std::cout << "could not ask " << u << "\n";
    std::cout << totals.databases << " " << ServerType(type) << " databases: " << totals.consistent
              << " consistent, " << totals.differ << " differ (" << totals.missing_replicas << " missing replicas, "
              << totals.handoff_copies << " copies on handoffs, " << totals.unreadable << " unreadable), "
              << totals.sharded << " sharded; " << unreachable.size() << " devices not asked\n";
  }
  if (!ok) {
    // Exit 1 with the summary already printed: FAILED_PRECONDITION is not a
    // usage error (that is INVALID_ARGUMENT, exit 2).
    return absl::FailedPreconditionError(
        absl::StrCat(totals.differ, " databases differ, ", unreachable.size(), " devices not asked"));
  }
  return absl::OkStatus();
}

// dbreplctl dry-run ADDRESS: the agent's CheckPass (its node's databases).
absl::Status DryRun(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown(WithChannelFlags({"devices", "partitions", "json", "timeout", "verbose"})));
  if (args.positional().size() != 1) return absl::InvalidArgumentError("dry-run takes the agent's admin ADDRESS");
  ASSIGN_OR_RETURN(double timeout, args.GetDouble("timeout", 600));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, OpenChannel(args, args.positional()[0]));
  auto stub = v1::ReplicationAgent::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(timeout)));
  v1::CheckPassRequest req;
  req.set_devices(args.Get("devices"));
  req.set_partitions(args.Get("partitions"));
  auto reader = stub->CheckPass(&ctx, req);
  Totals totals;
  Json dbs = Json::array();
  v1::DbCheck c;
  while (reader->Read(&c)) dbs.push_back(Render(c, &totals));
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish(), ctx));
  if (args.Has("json")) {
    std::cout << Json{{"databases", std::move(dbs)},
                      {"totals", TotalsJson(totals)}}
                     .dump(2)
              << "\n";
  } else {
    for (const Json& db : dbs) {
      if (args.Has("verbose") || !(db["consistent"].is_boolean() && db["consistent"].get<bool>())) PrintHuman(db);
    }
    std::cout << totals.databases << " databases on this node: " << totals.consistent << " consistent, "
              << totals.differ << " differ, " << totals.sharded << " sharded\n";
  }
  if (totals.differ > 0) return absl::FailedPreconditionError(absl::StrCat(totals.differ, " databases differ"));
  return absl::OkStatus();
}

const bool dry_run_registered = RegisterCommand({
    "dry-run",
    "dry-run ADDRESS [--devices D1,D2] [--partitions P1,P2] [--json] [--verbose] [--timeout S]",
    "the agent's dry-run pass (CheckPass): what its next pass would do with each of its node's databases; exit 1 "
    "when any differs",
    {"json", "verbose"},
    DryRun,
});

const bool registered = RegisterCommand({
    "check",
    "check RING [ACCOUNT [CONTAINER] | --partition P...] [--json] [--verbose] [--per-diff N] [--timeout S] "
    "[--type account|container] [--swift-dir DIR | --hash-path-prefix P --hash-path-suffix S]",
    "read-only consistency check: every replica of every database, how they differ, what the next pass would "
    "do; exit 1 when any differs",
    {"json", "verbose"},
    Check,
});

}  // namespace
}  // namespace dbrepl::ctl
