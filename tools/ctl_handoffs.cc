// dbreplctl handoffs: the databases a node holds on handoff devices, per
// device (what operators watch drain during a rebalance). Reads the ring and
// lists directories; opens no database and changes nothing.
//
//   dbreplctl handoffs /etc/swift/container.ring.gz --devices /srv/node [--ip 10.0.0.2] [--json]
//
// A device directory is matched to the ring device of that name (and, with
// --ip, that replication IP; needed when several nodes' devices share names).
// A partition directory on a device that is not one of the partition's
// primaries is a handoff partition; its databases are the hash directories
// holding a "<hash>[_<epoch>].db". Device directories not in the ring are
// listed as such. Exit 0 (the command reports; it does not judge).
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/db_files.h"
#include "common/db_type.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/ring/ring.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "tools/ctl_command.h"
#include "tools/ctl_ring_args.h"

namespace dbrepl::ctl {
namespace {

using Json = nlohmann::ordered_json;

struct DeviceReport {
  std::string device;
  int ring_id = -1;  // -1: not in the ring.
  int64_t partitions = 0;
  std::map<int64_t, int64_t> handoff;  // partition -> databases
  int64_t handoff_databases = 0;
};

// Databases (hash dirs with a database file) in one partition directory.
int64_t CountDatabases(const std::string& part_dir) {
  int64_t n = 0;
  absl::StatusOr<std::vector<std::string>> suffixes = ListDirectory(part_dir);
  if (!suffixes.ok()) return 0;
  for (const std::string& suffix : *suffixes) {
    const std::string suffix_dir = JoinPath(part_dir, suffix);
    absl::StatusOr<std::vector<std::string>> hashes = ListDirectory(suffix_dir);
    if (!hashes.ok()) continue;
    for (const std::string& hash : *hashes) {
      if (!GetDbFiles(JoinPath(suffix_dir, hash), hash).empty()) ++n;
    }
  }
  return n;
}

absl::Status Handoffs(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"devices", "ip", "type", "json"}));
  if (args.positional().size() != 1) return absl::InvalidArgumentError("handoffs takes one RING path");
  const std::string& path = args.positional()[0];
  ASSIGN_OR_RETURN(DbType type, RingType(args, path));
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load(path));
  const std::string devices = args.Get("devices", "/srv/node");
  const std::string ip = args.Get("ip");
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(devices));
  std::sort(names.begin(), names.end());

  std::vector<DeviceReport> reports;
  for (const std::string& name : names) {
    DeviceReport r;
    r.device = name;
    int matches = 0;
    for (const auto& d : ring->devices()) {
      if (d.has_value() && d->device == name && (ip.empty() || d->replication_ip == ip)) {
        r.ring_id = d->id;
        ++matches;
      }
    }
    if (matches > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ring has ", matches, " devices named '", name, "'; give --ip to say which node this is"));
    }
    const std::string datadir = JoinPath(JoinPath(devices, name), std::string(Datadir(type)));
    absl::StatusOr<std::vector<std::string>> parts = ListDirectory(datadir);
    if (r.ring_id >= 0 && parts.ok()) {
      for (const std::string& p : *parts) {
        absl::StatusOr<int64_t> part = ParsePartition(p);
        if (!part.ok() || *part >= ring->partition_count()) continue;
        ++r.partitions;
        bool primary = false;
        for (const RingNode& n : ring->GetPartNodes(*part)) primary = primary || n.id == r.ring_id;
        if (primary) continue;
        const int64_t dbs = CountDatabases(JoinPath(datadir, p));
        r.handoff[*part] = dbs;
        r.handoff_databases += dbs;
      }
    }
    reports.push_back(std::move(r));
  }

  int64_t total_parts = 0, total_dbs = 0, devices_with = 0;
  for (const DeviceReport& r : reports) {
    total_parts += static_cast<int64_t>(r.handoff.size());
    total_dbs += r.handoff_databases;
    devices_with += r.handoff.empty() ? 0 : 1;
  }
  if (args.Has("json")) {
    Json out;
    out["type"] = std::string(ServerType(type));
    Json devs = Json::array();
    for (const DeviceReport& r : reports) {
      Json d;
      d["device"] = r.device;
      d["ring_id"] = r.ring_id >= 0 ? Json(r.ring_id) : Json(nullptr);
      d["partitions"] = r.partitions;
      d["handoff_partitions"] = static_cast<int64_t>(r.handoff.size());
      d["handoff_databases"] = r.handoff_databases;
      Json parts = Json::array();
      for (const auto& [part, dbs] : r.handoff) parts.push_back(Json{{"partition", part}, {"databases", dbs}});
      d["handoff"] = std::move(parts);
      devs.push_back(std::move(d));
    }
    out["devices"] = std::move(devs);
    out["handoff_partitions"] = total_parts;
    out["handoff_databases"] = total_dbs;
    std::cout << out.dump(2) << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-12s %7s %10s %18s %17s\n", "device", "ring id", "partitions", "handoff partitions",
                               "handoff databases");
  for (const DeviceReport& r : reports) {
    if (r.ring_id < 0) {
      std::cout << absl::StrFormat("%-12s %7s (not in the ring)\n", r.device, "-");
      continue;
    }
    std::cout << absl::StrFormat("%-12s %7d %10d %18d %17d\n", r.device, r.ring_id, r.partitions, r.handoff.size(),
                                 r.handoff_databases);
  }
  std::cout << absl::StrFormat("%d %s databases in %d handoff partitions on %d of %d devices\n", total_dbs,
                               ServerType(type), total_parts, devices_with, reports.size());
  return absl::OkStatus();
}

const bool registered = RegisterCommand({
    "handoffs",
    "handoffs RING [--devices DIR] [--ip REPLICATION_IP] [--type account|container] [--json]",
    "databases this node holds on handoff devices, per device (what drains during a rebalance)",
    {"json"},
    Handoffs,
});

}  // namespace
}  // namespace dbrepl::ctl
