// The command-line flags shared by dbrepl-peer and dbrepl-agent, defined
// once here, and the rule that joins them with the config file: a flag set
// on the command line beats the file, which beats Swift's default.
//
//   gflags::ParseCommandLineFlags(&argc, &argv, true);
//   ASSIGN_OR_RETURN(ReplicatorConfig config, LoadReplicatorConfigFromFlags());
//
// Each flag is named after the Swift option it overrides and is parsed the
// same way as the option (its text goes through the same Swift parsing), so
// --max_diffs=0 means what max_diffs = 0 means. A flag counts as set when
// gflags says it is not at its default (given on the command line or via
// SetCommandLineOption); the FLAGS_ variables alone ignore the config file,
// so read options through the Load*FromFlags functions.
//
// Call after flag parsing, from one thread (gflags is not synchronised).
#ifndef DBREPL_COMMON_CONFIG_FLAGS_H_
#define DBREPL_COMMON_CONFIG_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/ini_file.h"
#include "common/config/peer_config.h"
#include "common/config/replicator_config.h"
#include "common/db_type.h"
#include "gflags/gflags.h"

DECLARE_string(conf);
DECLARE_string(server_type);
DECLARE_string(devices);
DECLARE_bool(mount_check);
DECLARE_string(bind_ip);
DECLARE_int32(bind_port);
DECLARE_string(swift_dir);
DECLARE_int32(concurrency);
DECLARE_double(interval);
DECLARE_int32(per_diff);
DECLARE_int32(max_diffs);
DECLARE_double(node_timeout);
DECLARE_double(conn_timeout);
DECLARE_double(reclaim_age);
DECLARE_string(rsync_module);
DECLARE_bool(rsync_compress);
DECLARE_string(recon_cache_path);
DECLARE_bool(handoffs_only);
DECLARE_string(handoff_delete);
DECLARE_double(databases_per_second);
DECLARE_double(ring_check_interval);
DECLARE_string(fallocate_reserve);

namespace dbrepl {

// The flags that override ReplicatorConfig / PeerConfig options.
const std::vector<std::string>& ReplicatorFlagNames();
const std::vector<std::string>& PeerFlagNames();

// For each name in `names` whose flag was explicitly set, sets that option
// of `section` to the flag's value as text.
void OverlayExplicitFlags(const std::vector<std::string>& names, ConfigSection* section);

// --server_type, parsed. INVALID_ARGUMENT unless "account" or "container".
absl::StatusOr<DbType> ServerTypeFromFlags();

// The replicator section of --conf (required in the file when --conf is
// given; with no --conf, Swift's defaults) with explicit flags on top.
absl::StatusOr<ReplicatorConfig> LoadReplicatorConfigFromFlags();

// PeerConfigSection of --conf (or defaults) with explicit flags on top.
absl::StatusOr<PeerConfig> LoadPeerConfigFromFlags();

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_FLAGS_H_
