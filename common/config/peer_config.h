// What the replication service (dbrepl-peer) reads from a Swift server
// config: the devices it serves and where it listens.
//
//   ASSIGN_OR_RETURN(PeerConfig config,
//                    LoadPeerConfig("/etc/swift/container-server.conf", DbType::kContainer));
//
// Where the options come from, in increasing priority:
//  1. Swift's defaults (bind_port 6202 account / 6201 container);
//  2. the [app:<type>-server] section as Paste Deploy presents it to Swift's
//     server (so [DEFAULT] wins over the section unless "set key = ..."), or
//     [DEFAULT] alone if the file has no such section;
//  3. options written in a [dbrepl-peer] section itself (not inherited from
//     [DEFAULT]), for a peer that must differ from Swift's server, e.g. the
//     replication port when both run side by side.
// So one container-server.conf configures both Swift's server and the peer.
//
// Options: devices, mount_check, bind_ip, bind_port, swift_dir and
// fallocate_reserve ("1%" or a byte count; Swift's config_fallocate_value).
// Unknown options are ignored; invalid values are errors naming the option
// and section. Plain value type.
#ifndef DBREPL_COMMON_CONFIG_PEER_CONFIG_H_
#define DBREPL_COMMON_CONFIG_PEER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/ini_file.h"
#include "common/db_type.h"

namespace dbrepl {

inline constexpr char kPeerSectionName[] = "dbrepl-peer";

struct PeerConfig {
  DbType type = DbType::kContainer;
  std::string devices = "/srv/node";
  bool mount_check = true;
  std::string bind_ip = "0.0.0.0";
  int bind_port = 6201;
  std::string swift_dir = "/etc/swift";
  // Free space to keep on a device: a percentage of it, or bytes.
  double fallocate_reserve = 1;
  bool fallocate_reserve_is_percent = true;
  std::vector<std::string> warnings;

  static PeerConfig Defaults(DbType type);
  static absl::StatusOr<PeerConfig> FromSection(const ConfigSection& section, DbType type);
};

// "app:account-server" / "app:container-server".
std::string ServerAppSectionName(DbType type);

// The merged view described above (steps 2 and 3), for FromSection.
absl::StatusOr<ConfigSection> PeerConfigSection(const IniFile& ini, DbType type);

// Reads `path` (file or conf.d directory) and builds the PeerConfig.
absl::StatusOr<PeerConfig> LoadPeerConfig(const std::string& path, DbType type);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_PEER_CONFIG_H_
