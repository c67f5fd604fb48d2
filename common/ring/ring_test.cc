#include "common/ring/ring.h"

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/ring/ring_builder.h"
#include "common/ring/testing/ring_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::Dev;
using ::dbrepl::testing::MakeRing;
using ::dbrepl::testing::RingTestDataPath;
using ::dbrepl::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::vector<int> Ids(const std::vector<RingNode>& nodes) {
  std::vector<int> ids;
  for (const RingNode& n : nodes) ids.push_back(n.id);
  return ids;
}

std::unique_ptr<Ring> LoadTestRing(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Load(RingTestDataPath(name));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return ring.ok() ? *std::move(ring) : nullptr;
}

// A ring of one device with 2^part_power partitions, for GetPart.
std::unique_ptr<Ring> OneDeviceRing(int part_power) {
  return *Ring::FromData(MakeRing(part_power, {Dev(0, 1, 1, "10.0.0.1", 6201, "sda")},
                                  {std::vector<uint32_t>(size_t{1} << part_power, 0)}));
}

TEST(RingTest, GetPartMatchesSwiftVectors) {
  const HashPathConfig changeme{"", "changeme"};
  EXPECT_EQ(OneDeviceRing(10)->GetPart(changeme, "a", "c"), 931);
  EXPECT_EQ(OneDeviceRing(8)->GetPart(changeme, "a", "c"), 232);
  EXPECT_EQ(OneDeviceRing(4)->GetPart({"swiftbench-prefix", "swiftbench-suffix"}, "a", "c"), 9);
  EXPECT_EQ(OneDeviceRing(0)->GetPart(changeme, "a", "c"), 0);  // part_shift 32
  // Printed by Swift's Ring.get_part on the checked-in rings.
  auto ring = LoadTestRing("swift_container.ring.gz");
  EXPECT_EQ(ring->GetPart(changeme, "a", "c"), 232);
  EXPECT_EQ(ring->GetPart(changeme, "AUTH_test"), 157);
  EXPECT_EQ(ring->GetPart(changeme, "AUTH_test", "photos"), 119);
  auto fractional = LoadTestRing("swift_fractional.ring.gz");
  EXPECT_EQ(fractional->GetPart(changeme, "AUTH_test"), 39);
  EXPECT_EQ(fractional->GetPart(changeme, "AUTH_test", "photos"), 29);
}

// Expected ids below were printed by swift.common.ring.Ring (2.30.1) on the
// same files: testdata/dump_swift_nodes.py.
struct SwiftNodes {
  int64_t part;
  std::vector<int> primaries;
  std::vector<int> handoffs;
};

void ExpectSwiftNodes(const Ring& ring, const std::vector<SwiftNodes>& cases) {
  for (const SwiftNodes& c : cases) {
    std::vector<RingNode> primaries = ring.GetPartNodes(c.part);
    EXPECT_THAT(Ids(primaries), ElementsAreArray(c.primaries)) << "part " << c.part;
    for (size_t i = 0; i < primaries.size(); ++i) {
      EXPECT_EQ(primaries[i].index, static_cast<int>(i));
      EXPECT_EQ(primaries[i].handoff_index, -1);
      EXPECT_FALSE(primaries[i].is_handoff());
    }
    std::vector<RingNode> handoffs = ring.GetMoreNodesList(c.part);
    EXPECT_THAT(Ids(handoffs), ElementsAreArray(c.handoffs)) << "part " << c.part;
    for (size_t i = 0; i < handoffs.size(); ++i) {
      EXPECT_EQ(handoffs[i].handoff_index, static_cast<int>(i));
      EXPECT_EQ(handoffs[i].index, -1);
      EXPECT_TRUE(handoffs[i].is_handoff());
    }
  }
}

TEST(RingTest, NodesMatchSwiftOnSwiftBuiltRing) {
  auto ring = LoadTestRing("swift_container.ring.gz");
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->partition_count(), 256);
  EXPECT_EQ(ring->part_power(), 8);
  EXPECT_EQ(ring->replica_count(), 3.0);
  EXPECT_EQ(ring->device_count(), 21);           // 22 slots, one hole
  EXPECT_EQ(ring->weighted_device_count(), 20);  // sdz has weight 0
  EXPECT_EQ(ring->assigned_device_count(), 20);
  ExpectSwiftNodes(*ring,
                   {
                       {0, {12, 2, 18}, {11, 4, 1, 16, 14, 8, 7, 19, 10, 0, 5, 17, 9, 13, 6, 15, 3}},
                       {1, {17, 0, 13}, {6, 8, 2, 18, 15, 4, 10, 19, 3, 5, 16, 9, 14, 7, 11, 1, 12}},
                       {17, {4, 8, 16}, {0, 14, 10, 6, 2, 12, 18, 5, 17, 9, 11, 1, 3, 7, 19, 15, 13}},
                       {100, {14, 3, 16}, {10, 6, 18, 1, 12, 5, 9, 15, 0, 13, 2, 19, 17, 7, 11, 4, 8}},
                       {255, {7, 12, 11}, {17, 0, 5, 9, 2, 19, 15, 13, 4, 8, 16, 6, 10, 18, 1, 14, 3}},
                   });
}

TEST(RingTest, NodesMatchSwiftOnFractionalReplicaRing) {
  auto ring = LoadTestRing("swift_fractional.ring.gz");
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->replica_count(), 2.5);
  EXPECT_EQ(ring->replica_rows(), 3u);
  ExpectSwiftNodes(*ring,
                   {
                       {0, {18, 3, 8}, {13, 6, 10, 17, 0, 15, 4, 2, 16, 11, 14, 9, 7, 12, 1, 5, 19}},
                       {31, {18, 0, 10}, {13, 4, 2, 14, 17, 6, 8, 19, 11, 15, 16, 9, 7, 12, 3, 1, 5}},
                       {32, {15, 2}, {17, 10, 6, 5, 1, 13, 19, 9, 12, 7, 3, 14, 18, 0, 8, 4, 11, 16}},
                       {63, {18, 0}, {8, 12, 7, 3, 14, 11, 16, 5, 1, 9, 17, 19, 10, 6, 2, 13, 4, 15}},
                   });
}

// Worked by hand, and confirmed with Swift: 4 partitions, so inc = 1;
// md5("1") = c4ca..., start = 0xc4 >> 6 = 3, and the scan is 3, then
// range(1 - 0, 3) = 1, 2: partition 0 is never scanned (a quirk of Swift's
// wrap-around arithmetic), so device 5, found only there, is never a
// handoff for partition 1.
TEST(RingTest, HandoffsWorkedByHand) {
  auto ring = *Ring::FromData(MakeRing(2,
                                       {Dev(0, 1, 1, "10.0.0.1", 6201, "d0"), Dev(1, 1, 1, "10.0.0.1", 6201, "d1"),
                                        Dev(2, 1, 2, "10.0.0.2", 6201, "d2"), Dev(3, 2, 1, "10.0.1.1", 6201, "d3"),
                                        Dev(4, 1, 1, "10.0.0.3", 6201, "d4"), Dev(5, 1, 1, "10.0.0.1", 6201, "d5")},
                                       {{4, 0, 3, 2}, {5, 1, 2, 4}}));
  // Primaries {0, 1}: region 1, zone (1,1), ip 10.0.0.1.
  //   region pass: part 3 gives 2 (r1), 4 (r1); part 1 only primaries;
  //                part 2 gives 3 (new region 2) -> all 2 regions seen.
  //   zone pass:   part 3 gives 2 (zone (1,2), new) -> all 3 zones seen.
  //   ip pass:     part 3 gives 4 (ip 10.0.0.3, new) -> all 4 ips seen.
  //   device pass: 5 of 6 devices used; 5 sits only at partition 0.
  EXPECT_THAT(Ids(ring->GetMoreNodesList(1)), ElementsAre(3, 2, 4));
  // The rest, as Swift's get_more_nodes gives them.
  EXPECT_THAT(Ids(ring->GetMoreNodesList(0)), ElementsAre(3, 2, 0, 1));
  EXPECT_THAT(Ids(ring->GetMoreNodesList(2)), ElementsAre(4, 0, 1));
  EXPECT_THAT(Ids(ring->GetMoreNodesList(3)), ElementsAre(3, 0, 1));
}

TEST(RingTest, GetPartNodesDropsDuplicateDevices) {
  auto ring = *Ring::FromData(MakeRing(1, {Dev(0, 1, 1, "10.0.0.1", 6201, "a"), Dev(1, 1, 2, "10.0.0.2", 6201, "b")},
                                       {{0, 1}, {0, 0}, {1, 0}}));
  std::vector<RingNode> nodes = ring->GetPartNodes(0);
  EXPECT_THAT(Ids(nodes), ElementsAre(0, 1));
  EXPECT_EQ(nodes[1].index, 1);  // numbered after dropping the duplicate
  EXPECT_THAT(Ids(ring->GetPartNodes(1)), ElementsAre(1, 0));
  EXPECT_THAT(ring->GetPartNodes(2), IsEmpty());
  EXPECT_THAT(ring->GetPartNodes(-1), IsEmpty());
  // Every device is a primary of both partitions: no handoffs.
  EXPECT_THAT(ring->GetMoreNodesList(0), IsEmpty());
}

TEST(RingTest, HandoffIteratorIsLazyAndStaysExhausted) {
  auto ring = LoadTestRing("swift_container.ring.gz");
  HandoffIterator it = ring->GetMoreNodes(17);
  absl::optional<RingNode> first = it.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 0);
  EXPECT_EQ(first->device, "sdb");
  EXPECT_EQ(first->replication_ip, "10.9.1.1");
  int count = 1;
  while (it.Next().has_value()) ++count;
  EXPECT_EQ(count, 17);
  EXPECT_FALSE(it.Next().has_value());
  EXPECT_FALSE(it.Next().has_value());
  EXPECT_THAT(Ids(ring->GetMoreNodesList(17, 3)), ElementsAre(0, 14, 10));
}

TEST(RingTest, DeviceLookup) {
  auto ring = LoadTestRing("swift_container.ring.gz");
  ASSERT_NE(ring->device(3), nullptr);
  EXPECT_EQ(ring->device(3)->id, 3);
  EXPECT_EQ(ring->device(21), nullptr);  // hole
  EXPECT_EQ(ring->device(22), nullptr);
  EXPECT_EQ(ring->device(-1), nullptr);
}

TEST(RingTest, LoadErrors) {
  EXPECT_THAT(Ring::Load(RingTestDataPath("absent.ring.gz")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Ring::FromData(MakeRing(1, {Dev(0, 1, 1, "a", 1, "d")}, {{0}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Against a plain transliteration of Swift's get_more_nodes -------------

std::set<uint32_t> AssignedIds(const RingData& d) {
  std::set<uint32_t> assigned;
  for (const auto& row : d.replica2part2dev) assigned.insert(row.begin(), row.end());
  return assigned;
}

std::vector<int> ReferenceHandoffs(const RingData& d, int64_t part, const std::set<uint32_t>& assigned) {
  const auto& rows = d.replica2part2dev;
  std::set<int> regions;
  std::set<std::pair<int, int>> zones;
  std::set<std::tuple<int, int, std::string>> ips;
  for (uint32_t id : assigned) {
    const RingDevice& dev = *d.devices[id];
    regions.insert(dev.region);
    zones.insert({dev.region, dev.zone});
    ips.insert({dev.region, dev.zone, dev.ip});
  }
  std::set<uint32_t> used;
  std::set<int> same_regions;
  std::set<std::pair<int, int>> same_zones;
  std::set<std::tuple<int, int, std::string>> same_ips;
  for (const auto& row : rows) {
    if (part < static_cast<int64_t>(row.size()) && used.insert(row[part]).second) {
      const RingDevice& dev = *d.devices[row[part]];
      same_regions.insert(dev.region);
      same_zones.insert({dev.region, dev.zone});
      same_ips.insert({dev.region, dev.zone, dev.ip});
    }
  }
  const int64_t parts = rows[0].size();
  const Md5Digest md5 = Md5(absl::StrCat(part));
  const int64_t start = ((uint64_t{md5[0]} << 24) | (md5[1] << 16) | (md5[2] << 8) | md5[3]) >> d.part_shift;
  const int64_t inc = std::max<int64_t>(parts / 65536, 1);
  std::vector<int64_t> scan;
  for (int64_t x = start; x < parts; x += inc) scan.push_back(x);
  for (int64_t x = inc - ((parts - start) % inc); x < start; x += inc) scan.push_back(x);

  std::vector<int> out;
  for (int pass = 0; pass < 4; ++pass) {
    auto hit = [&] {
      switch (pass) {
        case 0: return same_regions.size() == regions.size();
        case 1: return same_zones.size() == zones.size();
        case 2: return same_ips.size() == ips.size();
        default: return used.size() == assigned.size();
      }
    };
    bool hit_all = hit();
    for (int64_t x : scan) {
      if (hit_all) break;
      for (const auto& row : rows) {
        if (x >= static_cast<int64_t>(row.size())) continue;
        const RingDevice& dev = *d.devices[row[x]];
        if (used.count(dev.id)) continue;
        if (pass == 0 && same_regions.count(dev.region)) continue;
        if (pass == 1 && same_zones.count({dev.region, dev.zone})) continue;
        if (pass == 2 && same_ips.count({dev.region, dev.zone, dev.ip})) continue;
        out.push_back(dev.id);
        used.insert(dev.id);
        if (pass <= 0) same_regions.insert(dev.region);
        if (pass <= 1) same_zones.insert({dev.region, dev.zone});
        if (pass <= 2) same_ips.insert({dev.region, dev.zone, dev.ip});
        if (hit()) {
          hit_all = true;
          break;
        }
      }
    }
  }
  return out;
}

std::vector<RingDevice> Layout(int regions, int zones, int ips, int devs) {
  std::vector<RingDevice> out;
  for (int r = 1; r <= regions; ++r) {
    for (int z = 1; z <= zones; ++z) {
      for (int i = 1; i <= ips; ++i) {
        for (int k = 0; k < devs; ++k) {
          out.push_back(Dev(0, r, z, absl::StrCat("10.", r, ".", z, ".", i), 6201, absl::StrCat("sd", std::string(1, static_cast<char>('a' + k))),
                            50.0 * (1 + (k + i) % 2)));
        }
      }
    }
  }
  return out;
}

TEST(RingTest, HandoffsMatchReferenceOnSwiftRingsForEveryPartition) {
  for (const char* name : {"swift_container.ring.gz", "swift_fractional.ring.gz"}) {
    auto ring = LoadTestRing(name);
    const std::set<uint32_t> assigned = AssignedIds(ring->data());
    for (int64_t part = 0; part < ring->partition_count(); ++part) {
      ASSERT_THAT(Ids(ring->GetMoreNodesList(part)),
                  ElementsAreArray(ReferenceHandoffs(ring->data(), part, assigned)))
          << name << " part " << part;
    }
  }
}

TEST(RingTest, HandoffsMatchReferenceOnBuiltRingsIncludingLargeIncrement) {
  struct Shape {
    int part_power;
    double replicas;
    std::vector<RingDevice> devices;
  };
  const std::vector<Shape> shapes = {
      {6, 3, Layout(1, 1, 1, 4)},     // one zone: only the device pass finds anything
      {8, 3, Layout(3, 2, 2, 2)},     // several regions
      {7, 2.25, Layout(2, 3, 1, 3)},  // fractional replicas
      {17, 3, Layout(2, 2, 2, 2)},    // 131072 partitions: inc = 2
      {18, 2, Layout(1, 3, 2, 1)},    // inc = 4
  };
  for (const Shape& s : shapes) {
    ASSERT_OK_AND_ASSIGN(RingData data, BuildRing(s.devices, s.part_power, s.replicas));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ring> ring, Ring::FromData(data));
    const int64_t parts = ring->partition_count();
    const int64_t step = parts > 512 ? parts / 31 : 1;
    const std::set<uint32_t> assigned = AssignedIds(data);
    for (int64_t part = 0; part < parts; part += step) {
      ASSERT_THAT(Ids(ring->GetMoreNodesList(part)), ElementsAreArray(ReferenceHandoffs(data, part, assigned)))
          << "part power " << s.part_power << " part " << part;
    }
  }
}

TEST(RingTest, HandoffsMatchReferenceOnRandomTables) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<RingDevice> devs = Layout(1 + rng() % 3, 1 + rng() % 3, 1 + rng() % 2, 1 + rng() % 3);
    std::vector<absl::optional<RingDevice>> devices;
    for (size_t i = 0; i < devs.size(); ++i) {
      devs[i].id = static_cast<int>(i);
      devices.push_back(devs[i]);
    }
    const int part_power = 1 + rng() % 6;
    const size_t parts = size_t{1} << part_power;
    std::vector<std::vector<uint32_t>> rows(1 + rng() % 4);
    for (size_t r = 0; r < rows.size(); ++r) {
      // Random ids, duplicates within a partition included; a short last row.
      rows[r].resize(r > 0 && r + 1 == rows.size() && rng() % 2 ? rng() % parts : parts);
      for (uint32_t& id : rows[r]) id = rng() % devs.size();
    }
    RingData data = MakeRing(part_power, devices, rows);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Ring> ring, Ring::FromData(data));
    const std::set<uint32_t> assigned = AssignedIds(data);
    for (size_t part = 0; part < parts; ++part) {
      ASSERT_THAT(Ids(ring->GetMoreNodesList(part)), ElementsAreArray(ReferenceHandoffs(data, part, assigned)))
          << "trial " << trial << " part " << part;
    }
  }
}

}  // namespace
}  // namespace dbrepl
