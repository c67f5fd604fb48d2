// Builds a new ring from a device list: dbrepl's small stand-in for
// swift-ring-builder's create/add/rebalance, for tests and for clusters set
// up by dbreplctl. The result is written with WriteRingFile()
// (ring_format.h) and Swift reads it like one of its own.
//
//   ASSIGN_OR_RETURN(RingDevice dev, ParseDeviceSpec("r1z2-10.0.0.2:6201R10.1.0.2:6301/sdb1"));
//   ASSIGN_OR_RETURN(RingData data, BuildRing({dev, ...}, /*part_power=*/10, /*replicas=*/3));
//   RETURN_IF_ERROR(WriteRingFile("/etc/swift/container.ring.gz", data));
//
// Assignment: each partition's replicas go, in turn, to the device that
// shares the fewest tiers with the replicas already placed for that
// partition (region first, then zone, then IP: a partition spreads over
// regions before zones, zones before IPs, IPs before devices) and, among
// those, to the device furthest below its weight's share of all
// assignments (ties: lowest id). So weight-0 devices get nothing, devices
// fill in proportion to weight where dispersion allows, and the result is
// deterministic. Unlike Swift's builder there is no overload, no
// min_part_hours and no incremental rebalance: every build starts afresh.
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_RING_RING_BUILDER_H_
#define DBREPL_COMMON_RING_RING_BUILDER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/ring/ring_data.h"

namespace dbrepl {

// Parses a device given on the command line, in either form:
//   REGION/ZONE/IP:PORT/DEVICE[/WEIGHT]                       e.g. 1/2/10.0.0.2:6201/sdb1/100
//   rREGIONzZONE-IP:PORT[RREPL_IP:REPL_PORT]/DEVICE[_META][/WEIGHT]
//                                           e.g. r1z2-10.0.0.2:6201R10.1.0.2:6301/sdb1
// (the second is swift-ring-builder's "add" syntax). IPv6 addresses go in
// brackets: [fd00::2]:6201. WEIGHT defaults to 1; replication_ip/port default
// to ip/port; `id` is left 0 for BuildRing to number. INVALID_ARGUMENT
// describing the expected form on any mistake.
absl::StatusOr<RingDevice> ParseDeviceSpec(absl::string_view spec);

// Builds a ring with 2^part_power partitions and `replicas` replica rows
// (a fractional count gives a last row of int(partitions * fraction)
// entries, as Swift does). Devices are numbered 0.. in the given order.
// INVALID_ARGUMENT if part_power is outside [0, kMaxPartPower], replicas
// < 1, there are more than 65534 devices, a weight is negative or not
// finite, or fewer devices have weight than the ring has replica rows.
absl::StatusOr<RingData> BuildRing(std::vector<RingDevice> devices, int part_power, double replicas);

// Swift's per-device balance by id, in percent: how far each device's
// assignments are above (+) or below (-) its weight's share. 0 for a
// weight-0 device without assignments (and for holes); 999.99 (Swift's
// MAX_BALANCE) for a weight-0 device with some.
std::vector<double> DeviceBalances(const RingData& data);

// Assignments (partition replicas) per device id.
std::vector<int64_t> AssignmentsPerDevice(const RingData& data);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_RING_BUILDER_H_
