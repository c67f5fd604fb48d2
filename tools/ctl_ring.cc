// dbreplctl ring create / show / nodes: build a ring, inspect one, and find
// where an account or container lives (like swift-get-nodes).
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/db_type.h"
#include "common/hash_path.h"
#include "common/paths.h"
#include "common/ring/ring.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/status_macros.h"
#include "tools/ctl_command.h"
#include "tools/ctl_ring_args.h"

namespace dbrepl::ctl {
namespace {

// "ip:port", with IPv6 in brackets.
std::string HostPort(const std::string& ip, int port) {
  return ip.find(':') != std::string::npos ? absl::StrCat("[", ip, "]:", port) : absl::StrCat(ip, ":", port);
}

absl::Status RingCreate(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({"part_power", "replicas", "device", "force"}));
  if (args.positional().size() != 1) return absl::InvalidArgumentError("ring create takes one RING path");
  const std::string& path = args.positional()[0];
  if (!args.Has("part_power")) return absl::InvalidArgumentError("--part-power is required");
  ASSIGN_OR_RETURN(int64_t part_power, args.GetInt("part_power", 0));
  ASSIGN_OR_RETURN(double replicas, args.GetDouble("replicas", 3));
  std::vector<RingDevice> devices;
  for (const std::string& spec : args.GetAll("device")) {
    ASSIGN_OR_RETURN(RingDevice dev, ParseDeviceSpec(spec));
    devices.push_back(std::move(dev));
  }
  if (devices.empty()) return absl::InvalidArgumentError("give at least one --device");
  struct stat st;
  if (!args.Has("force") && stat(path.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(path, " exists; pass --force to replace it"));
  }
  ASSIGN_OR_RETURN(RingData data, BuildRing(std::move(devices), static_cast<int>(part_power), replicas));
  RETURN_IF_ERROR(WriteRingFile(path, data));
  std::cout << absl::StrFormat("Wrote %s: %d partitions, %g replicas, %d devices\n", path, data.partition_count(),
                               data.replica_count(), data.devices.size());
  return absl::OkStatus();
}

absl::Status RingShow(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown({}));
  if (args.positional().size() != 1) return absl::InvalidArgumentError("ring show takes one RING path");
  const std::string& path = args.positional()[0];
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load(path));
  const RingData& data = ring->data();
  std::set<int> regions;
  std::set<std::pair<int, int>> zones;
  for (const auto& d : ring->devices()) {
    if (!d.has_value()) continue;
    regions.insert(d->region);
    zones.insert({d->region, d->zone});
  }
  const std::vector<int64_t> parts = AssignmentsPerDevice(data);
  const std::vector<double> balances = DeviceBalances(data);
  double worst = 0;
  for (size_t id = 0; id < balances.size(); ++id) {
    if (ring->device(id) != nullptr) worst = std::max(worst, std::fabs(balances[id]));
  }
  std::cout << path << ", format version " << data.format_version << ", build version "
            << (data.version.has_value() ? absl::StrCat(*data.version) : "none") << "\n";
  std::cout << absl::StrFormat(
      "%d partitions (part power %d), %.2f replicas, %d regions, %d zones, %d devices, %.2f balance\n",
      ring->partition_count(), ring->part_power(), ring->replica_count(), regions.size(), zones.size(),
      ring->device_count(), worst);
  if (data.next_part_power.has_value()) std::cout << "next_part_power " << *data.next_part_power << "\n";
  std::cout << absl::StrFormat("Devices: %4s %6s %4s %22s %22s %8s %8s %10s %8s %s\n", "id", "region", "zone",
                               "ip address:port", "replication ip:port", "name", "weight", "partitions", "balance",
                               "meta");
  for (const auto& d : ring->devices()) {
    if (!d.has_value()) continue;
    std::cout << absl::StrFormat("         %4d %6d %4d %22s %22s %8s %8.2f %10d %8.2f %s\n", d->id, d->region,
                                 d->zone, HostPort(d->ip, d->port),
                                 HostPort(d->replication_ip, d->replication_port), d->device, d->weight,
                                 parts[d->id], balances[d->id], d->meta);
  }
  return absl::OkStatus();
}


// Prints what swift-get-nodes prints for one partition (and, when `hash` is
// set, one account or container), then where replication reaches each copy.
void PrintNodes(const Ring& ring, DbType type, int64_t part, const std::string& account,
                const std::string& container, const std::string& hash, bool all, const std::string& devices) {
  const std::vector<RingNode> primaries = ring.GetPartNodes(part);
  const std::vector<RingNode> handoffs = ring.GetMoreNodesList(part, all ? -1 : static_cast<int>(primaries.size()));
  std::cout << "\n";
  if (!account.empty()) std::cout << "Account  \t" << account << "\n";
  if (!container.empty()) std::cout << "Container\t" << container << "\n";
  std::cout << "Partition\t" << part << "\n";
  std::cout << "Hash     \t" << (hash.empty() ? "None" : hash) << "\n\n";
  // The same lines as swift-get-nodes, so the two can be compared.
  for (const RingNode& n : primaries) {
    std::cout << "Server:Port Device\t" << n.ip << ":" << n.port << " " << n.device << "\n";
  }
  for (const RingNode& n : handoffs) {
    std::cout << "Server:Port Device\t" << n.ip << ":" << n.port << " " << n.device << "\t [Handoff]\n";
  }
  std::cout << "\nReplication address and " << (hash.empty() ? "partition directory" : "database path")
            << " (devices = " << devices << "):\n";
  const auto print = [&](const RingNode& n, const std::string& role) {
    const std::string where = hash.empty()
                                  ? JoinPath(JoinPath(JoinPath(devices, n.device), Datadir(type)), absl::StrCat(part))
                                  : DbFilePath(devices, n.device, type, part, hash);
    std::cout << role << "\t" << HostPort(n.replication_ip, n.replication_port) << "\t" << where << "\n";
  };
  for (const RingNode& n : primaries) print(n, absl::StrCat("primary ", n.index));
  for (const RingNode& n : handoffs) print(n, absl::StrCat("handoff ", n.handoff_index));
}

absl::Status RingNodes(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown(
      {"type", "swift_dir", "hash_path_prefix", "hash_path_suffix", "all", "devices", "partition"}));
  std::vector<std::string> pos = args.positional();
  if (pos.size() == 2 && pos[1].find('/') != std::string::npos) {
    // "ACCOUNT/CONTAINER" as one argument, as swift-get-nodes allows.
    std::vector<std::string> parts = absl::StrSplit(pos[1], absl::MaxSplits('/', 1));
    pos = {pos[0], parts[0], parts[1]};
  }
  const std::vector<std::string> partitions = args.GetAll("partition");
  if (!partitions.empty() ? pos.size() != 1 : (pos.size() != 2 && pos.size() != 3)) {
    return absl::InvalidArgumentError("ring nodes takes RING ACCOUNT [CONTAINER], or RING --partition P...");
  }
  const std::string& path = pos[0];
  ASSIGN_OR_RETURN(DbType type, RingType(args, path));
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load(path));
  const std::string devices = args.Get("devices", "/srv/node");
  const bool all = args.Has("all");

  for (const std::string& text : partitions) {
    int64_t part;
    if (!absl::SimpleAtoi(text, &part) || part < 0 || part >= ring->partition_count()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--partition '", text, "' is not a partition in [0, ", ring->partition_count(), ")"));
    }
    PrintNodes(*ring, type, part, "", "", "", all, devices);
  }
  if (!partitions.empty()) return absl::OkStatus();

  const std::string& account = pos[1];
  const std::string container = pos.size() == 3 ? pos[2] : "";
  if (account.empty()) return absl::InvalidArgumentError("the account name is empty");
  if (type == DbType::kAccount && !container.empty()) {
    return absl::InvalidArgumentError("an account ring places accounts; give no CONTAINER (or use --type)");
  }
  if (type == DbType::kContainer && container.empty()) {
    return absl::InvalidArgumentError("a container ring needs ACCOUNT CONTAINER");
  }
  ASSIGN_OR_RETURN(HashPathConfig hash_config, HashConfig(args));
  PrintNodes(*ring, type, ring->GetPart(hash_config, account, container), account, container,
             HashPath(hash_config, account, container), all, devices);
  return absl::OkStatus();
}

const bool registered = RegisterCommand({
                            "ring create",
                            "ring create RING --part-power P [--replicas R] --device SPEC [--device SPEC...] "
                            "[--force]",
                            "build a ring (SPEC: REGION/ZONE/IP:PORT/DEVICE[/WEIGHT] or "
                            "rRzZ-IP:PORT[RIP:PORT]/DEVICE[_META][/WEIGHT])",
                            {"force"},
                            RingCreate,
                        }) &&
                        RegisterCommand({
                            "ring show",
                            "ring show RING",
                            "part power, replicas, and each device with its partitions and balance",
                            {},
                            RingShow,
                        }) &&
                        RegisterCommand({
                            "ring nodes",
                            "ring nodes RING (ACCOUNT [CONTAINER] | --partition P...) [--all] "
                            "[--type account|container] [--swift-dir DIR | --hash-path-prefix P "
                            "--hash-path-suffix S] [--devices DIR]",
                            "partition, hash, primaries, handoffs and on-disk paths (like swift-get-nodes)",
                            {"all"},
                            RingNodes,
                        });

}  // namespace
}  // namespace dbrepl::ctl
