#include "common/ring/local_devices.h"

#include "common/ring/testing/ring_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::Dev;
using ::dbrepl::testing::MakeRing;

std::vector<int> Ids(const std::vector<RingDevice>& devs) {
  std::vector<int> ids;
  for (const RingDevice& d : devs) ids.push_back(d.id);
  return ids;
}

TEST(LocalDevicesTest, MatchesReplicationAddressAndPort) {
  RingDevice separate = Dev(3, 1, 1, "10.0.0.1", 6201, "sdd");
  separate.replication_ip = "10.1.0.1";  // a replication network
  separate.replication_port = 6301;
  auto ring = *Ring::FromData(MakeRing(0,
                                       {Dev(0, 1, 1, "10.0.0.1", 6201, "sda"), Dev(1, 1, 1, "10.0.0.1", 6202, "sdb"),
                                        absl::nullopt, separate, Dev(4, 1, 2, "10.0.0.2", 6201, "sde"),
                                        Dev(5, 1, 1, "fd00:0:0::1", 6201, "sdf")},
                                       {{0}}));
  const std::vector<std::string> mine = {"127.0.0.1", "10.0.0.1", "10.1.0.1", "fd00::1"};
  EXPECT_THAT(Ids(LocalDevices(*ring, mine, 6201)), ::testing::ElementsAre(0, 5));
  EXPECT_THAT(Ids(LocalDevices(*ring, mine, 6202)), ::testing::ElementsAre(1));
  EXPECT_THAT(Ids(LocalDevices(*ring, mine, 6301)), ::testing::ElementsAre(3));
  // Server-per-port: IPs only.
  EXPECT_THAT(Ids(LocalDevices(*ring, mine, absl::nullopt)), ::testing::ElementsAre(0, 1, 3, 5));
  EXPECT_THAT(LocalDevices(*ring, {"192.0.2.1"}, absl::nullopt), ::testing::IsEmpty());
}

}  // namespace
}  // namespace dbrepl
