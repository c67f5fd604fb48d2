#include "common/ring/ring_builder.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/ring/ring.h"
#include "common/ring/ring_format.h"
#include "common/ring/testing/ring_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::Dev;
using ::dbrepl::testing::NewTempDir;
using ::dbrepl::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseDeviceSpecTest, SlashForm) {
  ASSERT_OK_AND_ASSIGN(RingDevice d, ParseDeviceSpec("2/3/10.0.0.5:6201/sdb1/150.5"));
  EXPECT_EQ(d.region, 2);
  EXPECT_EQ(d.zone, 3);
  EXPECT_EQ(d.ip, "10.0.0.5");
  EXPECT_EQ(d.port, 6201);
  EXPECT_EQ(d.replication_ip, "10.0.0.5");
  EXPECT_EQ(d.replication_port, 6201);
  EXPECT_EQ(d.device, "sdb1");
  EXPECT_EQ(d.weight, 150.5);
  ASSERT_OK_AND_ASSIGN(RingDevice v6, ParseDeviceSpec("1/1/[FD00:0::2]:6202/sdc"));
  EXPECT_EQ(v6.ip, "fd00::2");
  EXPECT_EQ(v6.port, 6202);
  EXPECT_EQ(v6.weight, 1);
}

TEST(ParseDeviceSpecTest, SwiftForm) {
  ASSERT_OK_AND_ASSIGN(RingDevice d, ParseDeviceSpec("r1z2-127.0.0.1:6201R127.0.0.2:6301/sdb1_some meta"));
  EXPECT_EQ(d.region, 1);
  EXPECT_EQ(d.zone, 2);
  EXPECT_EQ(d.ip, "127.0.0.1");
  EXPECT_EQ(d.port, 6201);
  EXPECT_EQ(d.replication_ip, "127.0.0.2");
  EXPECT_EQ(d.replication_port, 6301);
  EXPECT_EQ(d.device, "sdb1");
  EXPECT_EQ(d.meta, "some meta");
  EXPECT_EQ(d.weight, 1);
  ASSERT_OK_AND_ASSIGN(RingDevice z, ParseDeviceSpec("z3-[::1]:6201R[::2]:6301/sdc/42"));
  EXPECT_EQ(z.region, 1);  // Swift's default when r is omitted
  EXPECT_EQ(z.zone, 3);
  EXPECT_EQ(z.ip, "::1");
  EXPECT_EQ(z.replication_ip, "::2");
  EXPECT_EQ(z.replication_port, 6301);
  EXPECT_EQ(z.device, "sdc");
  EXPECT_EQ(z.weight, 42);
  ASSERT_OK_AND_ASSIGN(RingDevice host, ParseDeviceSpec("r1z1-Node1.Example.com:6201/sdd"));
  EXPECT_EQ(host.ip, "node1.example.com");
}

TEST(ParseDeviceSpecTest, RejectsMalformedSpecs) {
  for (const char* spec : {"", "1/1/10.0.0.1/sdb", "1/1/10.0.0.1:x/sdb", "1/1/10.0.0.1:6201", "x/1/10.0.0.1:1/d",
                           "1/1/10.0.0.1:70000/sdb", "1/1/10.0.0.1:1/sdb/-1", "1/1/10.0.0.1:1/sdb/abc",
                           "1/1/10.0.0.1:1//", "r1-10.0.0.1:6201/sdb", "r1z1+10.0.0.1:6201/sdb",
                           "r1z1-10.0.0.1:6201", "r1z1-bad_host!:6201/sdb", "1/1/[::1:6201/sdb"}) {
    absl::StatusOr<RingDevice> d = ParseDeviceSpec(spec);
    EXPECT_THAT(d, StatusIs(absl::StatusCode::kInvalidArgument)) << spec;
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("expected REGION/ZONE")) << spec;
  }
}

std::vector<RingDevice> TwoRegionsThreeZones() {
  std::vector<RingDevice> devs;
  for (int r = 1; r <= 2; ++r) {
    for (int z = 1; z <= 3; ++z) {
      devs.push_back(Dev(0, r, z, absl::StrCat("10.", r, ".", z, ".1"), 6201, "sdb", 100));
      devs.push_back(Dev(0, r, z, absl::StrCat("10.", r, ".", z, ".1"), 6201, "sdc", 100));
    }
  }
  return devs;
}

TEST(BuildRingTest, SpreadsEachPartitionOverRegionsThenZones) {
  ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(TwoRegionsThreeZones(), 8, 3));
  ASSERT_OK_AND_ASSIGN(auto ring, Ring::FromData(data));
  EXPECT_EQ(ring->partition_count(), 256);
  EXPECT_EQ(ring->replica_count(), 3);
  for (int64_t part = 0; part < 256; ++part) {
    std::vector<RingNode> nodes = ring->GetPartNodes(part);
    ASSERT_EQ(nodes.size(), 3u) << part;
    std::set<int> regions;
    std::set<std::pair<int, int>> zones;
    for (const RingNode& n : nodes) {
      regions.insert(n.region);
      zones.insert({n.region, n.zone});
    }
    EXPECT_EQ(regions.size(), 2u) << part;
    EXPECT_EQ(zones.size(), 3u) << part;
  }
  // Equal weights: each of 12 devices holds 256 * 3 / 12 = 64 assignments.
  for (int64_t count : AssignmentsPerDevice(data)) EXPECT_EQ(count, 64);
  for (double balance : DeviceBalances(data)) EXPECT_NEAR(balance, 0, 1e-9);
}

TEST(BuildRingTest, IsDeterministicAndNumbersDevicesInOrder) {
  std::vector<RingDevice> devs = TwoRegionsThreeZones();
  devs[3].id = 99;  // ignored: ids follow the order given
  ASSERT_OK_AND_ASSIGN(RingData a, BuildRing(devs, 6, 2));
  ASSERT_OK_AND_ASSIGN(RingData b, BuildRing(devs, 6, 2));
  EXPECT_EQ(a.replica2part2dev, b.replica2part2dev);
  for (size_t i = 0; i < a.devices.size(); ++i) EXPECT_EQ(a.devices[i]->id, static_cast<int>(i));
}

TEST(BuildRingTest, FollowsWeightsAndSkipsWeightZero) {
  // One zone, so dispersion never competes with weight.
  std::vector<RingDevice> devs = {Dev(0, 1, 1, "10.0.0.1", 6201, "a", 100), Dev(0, 1, 1, "10.0.0.2", 6201, "b", 200),
                                  Dev(0, 1, 1, "10.0.0.3", 6201, "c", 0), Dev(0, 1, 1, "10.0.0.4", 6201, "d", 100)};
  ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(devs, 10, 2));
  std::vector<int64_t> counts = AssignmentsPerDevice(data);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[0], 512, 2);
  EXPECT_NEAR(counts[1], 1024, 2);
  EXPECT_NEAR(counts[3], 512, 2);
  std::vector<double> balances = DeviceBalances(data);
  EXPECT_EQ(balances[2], 0);
  EXPECT_LT(std::fabs(balances[1]), 1);
  // A device's two replicas are never the same device.
  for (int64_t p = 0; p < 1024; ++p) EXPECT_NE(data.replica2part2dev[0][p], data.replica2part2dev[1][p]);
}

TEST(BuildRingTest, FractionalReplicasGiveAShortLastRow) {
  ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(TwoRegionsThreeZones(), 6, 2.25));
  ASSERT_EQ(data.replica2part2dev.size(), 3u);
  EXPECT_EQ(data.replica2part2dev[2].size(), 16u);
  EXPECT_EQ(data.replica_count(), 2.25);
}

TEST(BuildRingTest, RejectsImpossibleRings) {
  std::vector<RingDevice> two = {Dev(0, 1, 1, "10.0.0.1", 6201, "a"), Dev(0, 1, 1, "10.0.0.2", 6201, "b"),
                                 Dev(0, 1, 1, "10.0.0.3", 6201, "c", 0)};
  EXPECT_THAT(BuildRing(two, 4, 3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildRing(two, -1, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildRing(two, kMaxPartPower + 1, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildRing(two, 4, 0.5), StatusIs(absl::StatusCode::kInvalidArgument));
  two[0].weight = -1;
  EXPECT_THAT(BuildRing(two, 4, 1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BuildRingTest, WrittenRingReadsBackIdentically) {
  std::vector<RingDevice> devs = TwoRegionsThreeZones();
  devs[1].replication_ip = "10.9.9.9";
  devs[1].replication_port = 6301;
  devs[2].meta = "rack 7";
  devs.push_back(Dev(0, 1, 1, "fd00::7", 6201, "sdz", 0));
  ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(devs, 7, 3));
  const std::string path = NewTempDir() + "/account.ring.gz";
  ASSERT_OK(WriteRingFile(path, data));
  ASSERT_OK_AND_ASSIGN(auto ring, Ring::Load(path));
  EXPECT_EQ(ring->data().devices, data.devices);
  EXPECT_EQ(ring->data().replica2part2dev, data.replica2part2dev);
  EXPECT_EQ(ring->part_power(), 7);
  EXPECT_EQ(ring->device(1)->replication_port, 6301);
  EXPECT_EQ(ring->device(2)->meta, "rack 7");
}

}  // namespace
}  // namespace dbrepl
