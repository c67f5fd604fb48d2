// The replicator's options (Swift's [account-replicator] /
// [container-replicator] section, as Replicator.__init__ in
// swift/common/db_replicator.py reads it), with Swift's defaults and Swift's
// parsing.
//
//   ASSIGN_OR_RETURN(ReplicatorConfig config,
//                    LoadReplicatorConfig("/etc/swift/container-server.conf", DbType::kContainer));
//   // config.per_diff == 1000 unless the file says otherwise
//
// Parsing follows db_replicator.Replicator.__init__: booleans through
// config_true_value (unrecognised words are false, with a warning);
// `max_diffs` is int(value or 100), so an empty value means 100 and "0"
// means 0; `interval` is float(interval or run_pause or 30), and run_pause
// draws Swift's deprecation warning; `handoff_delete` is "auto" (0) or an
// integer; `rsync_module` loses trailing '/' and, when empty, becomes
// "{replication_ip}::<server_type>". Unknown options are ignored. Unlike
// Swift, values that would break the daemon are refused rather than used:
// negative counts, ports outside 0..65535, timeouts <= 0, non-finite
// numbers. Every error names the option, its value, the section and file.
//
// Plain value type; LoadReplicatorConfig reads the file each call.
#ifndef DBREPL_COMMON_CONFIG_REPLICATOR_CONFIG_H_
#define DBREPL_COMMON_CONFIG_REPLICATOR_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/ini_file.h"
#include "common/db_type.h"

namespace dbrepl {

struct ReplicatorConfig {
  DbType type = DbType::kContainer;
  std::string devices = "/srv/node";  // the devices root
  bool mount_check = true;
  std::string bind_ip = "0.0.0.0";
  int bind_port = 6201;  // DefaultPort(type): must equal local devices' replication_port
  int concurrency = 8;   // databases replicated at once
  std::string swift_dir = "/etc/swift";
  int64_t per_diff = 1000;        // rows per merge_items batch
  int64_t max_diffs = 100;        // batches per database per peer per pass
  double interval = 30;           // seconds between pass starts
  double databases_per_second = 50;  // <= 0: unlimited
  double node_timeout = 10;       // seconds per call, and rsync --timeout
  double conn_timeout = 0.5;      // rsync --contimeout
  bool rsync_compress = false;    // --compress to other regions
  std::string rsync_module = "{replication_ip}::container";
  double reclaim_age = 604800;    // 7 days
  bool db_preallocation = false;
  bool db_query_logging = false;
  std::string recon_cache_path = "/var/cache/swift";
  bool handoffs_only = false;
  int64_t handoff_delete = 0;     // 0: delete a handoff only when every peer succeeded
  // dbrepl's addition: how often the ring file is checked for changes
  // (Swift's hard-wired reload_time).
  double ring_check_interval = 15;
  // dbrepl's addition: a pass worker takes whole partitions until it holds
  // this many databases, and what a peer device lacks among them travels in
  // one rsync run and one install call.
  int64_t batch_databases = 64;
  // dbrepl's addition: on a miss, learn the node's database states from its
  // own peer (ReadStates) rather than from SQLite.
  bool states_from_peer = true;

  // Things Swift would log as warnings while reading the options
  // (deprecated run_pause, booleans it silently took as false).
  std::vector<std::string> warnings;

  // Swift's defaults for `type` (bind_port, rsync_module depend on it).
  static ReplicatorConfig Defaults(DbType type);
  // Parses an already-merged section (DEFAULT included).
  static absl::StatusOr<ReplicatorConfig> FromSection(const ConfigSection& section, DbType type);

  // <swift_dir>/<type>.ring.gz
  std::string RingPath() const;
  // <recon_cache_path>/<type>.recon
  std::string ReconCachePath() const;
};

// "account-replicator" / "container-replicator".
std::string ReplicatorSectionName(DbType type);

// Reads `path` (a file or conf.d directory) and parses its replicator
// section for `type`. NOT_FOUND if the file or the section is missing
// (Swift refuses to start then, too).
absl::StatusOr<ReplicatorConfig> LoadReplicatorConfig(const std::string& path, DbType type);

// Swift's clamp of handoff_delete against the ring: a value the ring's
// replica count can never reach (>= replica_count) is reset to 0, and
// `warning` (if not null) gets Swift's message; otherwise unchanged.
int64_t EffectiveHandoffDelete(int64_t handoff_delete, double replica_count, std::string* warning);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_REPLICATOR_CONFIG_H_
