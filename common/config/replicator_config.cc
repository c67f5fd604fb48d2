#include "common/config/replicator_config.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config/config_values.h"
#include "common/paths.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

constexpr double kHuge = std::numeric_limits<double>::max();
constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();

}  // namespace

std::string ReplicatorSectionName(DbType type) { return absl::StrCat(ServerType(type), "-replicator"); }

ReplicatorConfig ReplicatorConfig::Defaults(DbType type) {
  ReplicatorConfig c;
  c.type = type;
  c.bind_port = DefaultPort(type);
  c.rsync_module = absl::StrCat("{replication_ip}::", ServerType(type));
  return c;
}

absl::StatusOr<ReplicatorConfig> ReplicatorConfig::FromSection(const ConfigSection& section, DbType type) {
  ReplicatorConfig c = Defaults(type);
  OptionReader in(section);
  c.devices = in.String("devices", c.devices);
  c.mount_check = in.Bool("mount_check", c.mount_check, &c.warnings);
  c.bind_ip = in.String("bind_ip", c.bind_ip);
  ASSIGN_OR_RETURN(int64_t bind_port, in.Int("bind_port", c.bind_port, 0, 65535));
  c.bind_port = static_cast<int>(bind_port);
  ASSIGN_OR_RETURN(int64_t concurrency, in.Int("concurrency", c.concurrency, 1, 100000));
  c.concurrency = static_cast<int>(concurrency);
  c.swift_dir = in.String("swift_dir", c.swift_dir);
  ASSIGN_OR_RETURN(c.per_diff, in.Int("per_diff", c.per_diff, 1, kMaxCount));

  // int(conf.get('max_diffs') or 100): empty means the default.
  if (section.Get("max_diffs").empty()) {
    c.max_diffs = 100;
  } else {
    ASSIGN_OR_RETURN(c.max_diffs, in.Int("max_diffs", c.max_diffs, 0, kMaxCount));
  }

  // float(conf.get('interval') or conf.get('run_pause') or 30).
  const std::string interval = section.Get("interval");
  const std::string run_pause = section.Get("run_pause");
  if (!interval.empty()) {
    ASSIGN_OR_RETURN(c.interval, in.Float("interval", c.interval, 0, kHuge));
  } else if (!run_pause.empty()) {
    ASSIGN_OR_RETURN(c.interval, in.Float("run_pause", c.interval, 0, kHuge));
  }
  if (section.Has("run_pause")) {
    const std::string type_name(ServerType(type));
    c.warnings.push_back(
        section.Has("interval")
            ? absl::StrFormat("Option %s-replicator/run_pause is deprecated and %s-replicator/interval is "
                              "already configured. You can safely remove run_pause; it is now ignored and will "
                              "be removed in a future version.",
                              type_name, type_name)
            : absl::StrFormat("Option %s-replicator/run_pause is deprecated and will be removed in a future "
                              "version. Update your configuration to use option %s-replicator/interval.",
                              type_name, type_name));
  }

  ASSIGN_OR_RETURN(c.databases_per_second, in.Float("databases_per_second", c.databases_per_second, -kHuge, kHuge));
  ASSIGN_OR_RETURN(c.node_timeout, in.Float("node_timeout", c.node_timeout, 0, kHuge));
  if (c.node_timeout <= 0) return in.Invalid("node_timeout", section.Get("node_timeout"), "must be above 0");
  ASSIGN_OR_RETURN(c.conn_timeout, in.Float("conn_timeout", c.conn_timeout, 0, kHuge));
  if (c.conn_timeout <= 0) return in.Invalid("conn_timeout", section.Get("conn_timeout"), "must be above 0");
  c.rsync_compress = in.Bool("rsync_compress", c.rsync_compress, &c.warnings);

  std::string module = section.Get("rsync_module");
  while (!module.empty() && module.back() == '/') module.pop_back();
  if (!module.empty()) c.rsync_module = module;

  ASSIGN_OR_RETURN(c.reclaim_age, in.Float("reclaim_age", c.reclaim_age, 0, kHuge));
  c.db_preallocation = in.Bool("db_preallocation", c.db_preallocation, &c.warnings);
  c.db_query_logging = in.Bool("db_query_logging", c.db_query_logging, &c.warnings);
  c.recon_cache_path = in.String("recon_cache_path", c.recon_cache_path);
  c.handoffs_only = in.Bool("handoffs_only", c.handoffs_only, &c.warnings);
  if (const std::string* v = section.Find("handoff_delete"); v != nullptr) {
    absl::StatusOr<int64_t> hd = ConfigAutoIntValue(*v, 0);
    if (!hd.ok()) return in.Invalid("handoff_delete", *v, hd.status().message());
    if (*hd < 0) return in.Invalid("handoff_delete", *v, "must be \"auto\" or at least 0");
    c.handoff_delete = *hd;
  }
  ASSIGN_OR_RETURN(c.ring_check_interval, in.Float("ring_check_interval", c.ring_check_interval, 0, kHuge));
  ASSIGN_OR_RETURN(c.batch_databases, in.Int("batch_databases", c.batch_databases, 1, 1000));
  c.states_from_peer = in.Bool("states_from_peer", c.states_from_peer, &c.warnings);
  return c;
}

std::string ReplicatorConfig::RingPath() const {
  return JoinPath(swift_dir, absl::StrCat(ServerType(type), ".ring.gz"));
}

std::string ReplicatorConfig::ReconCachePath() const {
  return JoinPath(recon_cache_path, absl::StrCat(ServerType(type), ".recon"));
}

absl::StatusOr<ReplicatorConfig> LoadReplicatorConfig(const std::string& path, DbType type) {
  ASSIGN_OR_RETURN(IniFile ini, IniFile::Load(path));
  ASSIGN_OR_RETURN(ConfigSection section, ini.Section(ReplicatorSectionName(type)));
  return ReplicatorConfig::FromSection(section, type);
}

int64_t EffectiveHandoffDelete(int64_t handoff_delete, double replica_count, std::string* warning) {
  if (handoff_delete > 0 && handoff_delete >= replica_count) {
    if (warning != nullptr) {
      *warning = absl::StrFormat(
          "handoff_delete=%d is too high to have an effect on a ring with replica count %d. Disabling.",
          handoff_delete, static_cast<int64_t>(replica_count));
    }
    return 0;
  }
  return handoff_delete;
}

}  // namespace dbrepl
