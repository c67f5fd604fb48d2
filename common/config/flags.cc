#include "common/config/flags.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

DEFINE_string(conf, "",
              "Swift config file (or conf.d directory) to read, e.g. /etc/swift/container-server.conf; "
              "empty means Swift's defaults plus the flags given.");
DEFINE_string(server_type, "container", "Which databases to serve or replicate: account or container.");
DEFINE_string(devices, "/srv/node", "Directory holding one subdirectory per device (Swift's devices).");
DEFINE_bool(mount_check, true, "Refuse devices that are not mount points (Swift's mount_check).");
DEFINE_string(bind_ip, "0.0.0.0",
              "IP address to listen on; a specific address also limits which ring devices are local "
              "(Swift's bind_ip).");
DEFINE_int32(bind_port, 6201,
             "Port to listen on, which must equal the ring's replication_port of this node's devices "
             "(Swift's bind_port; the default is 6201 for containers, 6202 for accounts).");
DEFINE_string(swift_dir, "/etc/swift", "Directory holding swift.conf and the rings (Swift's swift_dir).");
DEFINE_int32(concurrency, 8, "Number of databases replicated at the same time (Swift's concurrency).");
DEFINE_double(interval, 30, "Seconds between the starts of two replication passes (Swift's interval).");
DEFINE_int32(per_diff, 1000, "Rows sent per merge_items batch (Swift's per_diff).");
DEFINE_int32(max_diffs, 100, "Most merge_items batches sent per database per peer per pass (Swift's max_diffs).");
DEFINE_double(node_timeout, 10, "Seconds allowed for each call to a peer and for rsync I/O (Swift's node_timeout).");
DEFINE_double(conn_timeout, 0.5, "Seconds allowed for rsync to connect (Swift's conn_timeout).");
DEFINE_double(reclaim_age, 604800,
              "Seconds after which deleted rows, deleted databases and stale temporary files are reclaimed "
              "(Swift's reclaim_age).");
DEFINE_string(rsync_module, "",
              "rsync destination template, e.g. {replication_ip}::container; empty means "
              "{replication_ip}::<server_type> (Swift's rsync_module).");
DEFINE_bool(rsync_compress, false, "Compress rsync transfers to peers in other regions (Swift's rsync_compress).");
DEFINE_string(recon_cache_path, "/var/cache/swift",
              "Directory of the <server_type>.recon stats file (Swift's recon_cache_path).");
DEFINE_bool(handoffs_only, false,
            "Only replicate partitions this node holds as a handoff; for emergencies (Swift's handoffs_only).");
DEFINE_string(handoff_delete, "auto",
              "Delete a handoff database after this many successful peers; auto means all "
              "(Swift's handoff_delete).");
DEFINE_double(databases_per_second, 50,
              "Most databases started per second; 0 or less means no limit (Swift's databases_per_second).");
DEFINE_double(ring_check_interval, 15, "Seconds between checks of the ring file for changes.");
DEFINE_int32(batch_databases, 64,
             "A pass worker takes whole partitions until it holds this many databases; new replicas among "
             "them go to each peer device in one rsync run and one install call (1-1000).");
DEFINE_bool(states_from_peer, true,
            "Learn this node's database states from its own peer (ReadStates) when they are not cached, so the "
            "node reads each database once; false: read them from SQLite.");
DEFINE_string(fallocate_reserve, "1%",
              "Free space to keep on each device, as a percentage (1%) or bytes (Swift's fallocate_reserve).");

namespace dbrepl {

const std::vector<std::string>& ReplicatorFlagNames() {
  static const auto* names = new std::vector<std::string>{
      "devices",      "mount_check", "bind_ip",      "bind_port",       "swift_dir",
      "concurrency",  "interval",    "per_diff",     "max_diffs",       "node_timeout",
      "conn_timeout", "reclaim_age", "rsync_module", "rsync_compress",  "recon_cache_path",
      "handoffs_only", "handoff_delete", "databases_per_second", "ring_check_interval",
      "batch_databases", "states_from_peer"};
  return *names;
}

const std::vector<std::string>& PeerFlagNames() {
  static const auto* names = new std::vector<std::string>{"devices",   "mount_check", "bind_ip",
                                                          "bind_port", "swift_dir",   "fallocate_reserve"};
  return *names;
}

void OverlayExplicitFlags(const std::vector<std::string>& names, ConfigSection* section) {
  for (const std::string& name : names) {
    gflags::CommandLineFlagInfo info;
    if (gflags::GetCommandLineFlagInfo(name.c_str(), &info) && !info.is_default) {
      section->values[name] = info.current_value;
      section->command_line_keys.insert(name);
    }
  }
}

absl::StatusOr<DbType> ServerTypeFromFlags() {
  absl::optional<DbType> type = ParseDbType(FLAGS_server_type);
  if (!type.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--server_type must be account or container, not '", FLAGS_server_type, "'"));
  }
  return *type;
}

namespace {

ConfigSection CommandLineOnly(std::string name) {
  ConfigSection section;
  section.name = std::move(name);
  section.source = "the command line";
  return section;
}

}  // namespace

absl::StatusOr<ReplicatorConfig> LoadReplicatorConfigFromFlags() {
  ASSIGN_OR_RETURN(DbType type, ServerTypeFromFlags());
  ConfigSection section = CommandLineOnly(ReplicatorSectionName(type));
  if (!FLAGS_conf.empty()) {
    ASSIGN_OR_RETURN(IniFile ini, IniFile::Load(FLAGS_conf));
    ASSIGN_OR_RETURN(section, ini.Section(ReplicatorSectionName(type)));
  }
  OverlayExplicitFlags(ReplicatorFlagNames(), &section);
  return ReplicatorConfig::FromSection(section, type);
}

absl::StatusOr<PeerConfig> LoadPeerConfigFromFlags() {
  ASSIGN_OR_RETURN(DbType type, ServerTypeFromFlags());
  ConfigSection section = CommandLineOnly(ServerAppSectionName(type));
  if (!FLAGS_conf.empty()) {
    ASSIGN_OR_RETURN(IniFile ini, IniFile::Load(FLAGS_conf));
    ASSIGN_OR_RETURN(section, PeerConfigSection(ini, type));
  }
  OverlayExplicitFlags(PeerFlagNames(), &section);
  return PeerConfig::FromSection(section, type);
}

}  // namespace dbrepl
