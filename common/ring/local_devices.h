// The ring devices this node serves (Swift's replicator run_once step 5:
// devices whose replication_ip is one of ours and whose replication_port
// is our bind_port).
//
//   ASSIGN_OR_RETURN(auto ips, WhatAreMyIps(config.bind_ip));
//   for (const RingDevice& dev : LocalDevices(*ring, ips, config.bind_port)) ...
//
// Thread-safe; may resolve hostnames (see IsLocalDevice in common/net/my_ips.h).
#ifndef DBREPL_COMMON_RING_LOCAL_DEVICES_H_
#define DBREPL_COMMON_RING_LOCAL_DEVICES_H_

#include <string>
#include <vector>

#include "absl/types/optional.h"
#include "common/ring/ring.h"

namespace dbrepl {

// Devices (holes skipped) for which IsLocalDevice(my_ips, my_port,
// replication_ip, replication_port) holds, in id order. A nullopt port
// matches on IP only.
std::vector<RingDevice> LocalDevices(const Ring& ring, const std::vector<std::string>& my_ips,
                                     absl::optional<int> my_port);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_LOCAL_DEVICES_H_
