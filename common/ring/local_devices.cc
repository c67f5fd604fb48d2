#include "common/ring/local_devices.h"

#include "common/net/my_ips.h"

namespace dbrepl {

std::vector<RingDevice> LocalDevices(const Ring& ring, const std::vector<std::string>& my_ips,
                                     absl::optional<int> my_port) {
  std::vector<RingDevice> local;
  for (const auto& dev : ring.devices()) {
    if (dev.has_value() && IsLocalDevice(my_ips, my_port, dev->replication_ip, dev->replication_port)) {
      local.push_back(*dev);
    }
  }
  return local;
}

}  // namespace dbrepl
