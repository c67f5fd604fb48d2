// Which ring devices are this node's: Swift's whataremyips()
// (swift/common/utils) and is_local_device() (swift/common/ring/utils.py),
// with which the replicator's run_once finds the devices it walks.
//
//   ASSIGN_OR_RETURN(std::vector<std::string> ips, WhatAreMyIps(config.bind_ip));
//   if (IsLocalDevice(ips, config.bind_port, dev.replication_ip, dev.replication_port)) ...
//
// Thread-safe. WhatAreMyIps reads the interfaces and IsLocalDevice may
// resolve a hostname (blocking DNS); both are meant for the start of a pass.
#ifndef DBREPL_COMMON_NET_MY_IPS_H_
#define DBREPL_COMMON_NET_MY_IPS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace dbrepl {

// If `bind_ip` is a specific numeric address (not 0.0.0.0 or ::), just that
// address, normalised if IPv6. Otherwise (empty, a wildcard, or a hostname,
// as in Swift) every IPv4 and IPv6 address of every interface, IPv6 in
// canonical form without a %scope suffix, in getifaddrs() order, loopback
// included. An error only if the interfaces cannot be read.
absl::StatusOr<std::vector<std::string>> WhatAreMyIps(absl::string_view bind_ip);

// True if the device at dev_ip:dev_port is served by this node: one of
// dev_ip's addresses is in `my_ips` and, unless `my_port` is nullopt (a
// server-per-port deployment checks IPs only), dev_port == *my_port. A
// dev_ip that is not an IP but a valid hostname is resolved (every address
// is a candidate; a failed lookup means not local). IPv6 addresses on both
// sides are compared in canonical form.
bool IsLocalDevice(const std::vector<std::string>& my_ips, absl::optional<int> my_port,
                   absl::string_view dev_ip, int dev_port);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_NET_MY_IPS_H_
