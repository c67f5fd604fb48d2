// The contents of a Swift ring file, as plain data: the device list and the
// replica-to-partition-to-device table (swift/common/ring/ring.py, RingData:
// devs, _replica2part2dev_id, _part_shift).
//
// RingData is what ring_format.h decodes and encodes and what ring_builder.h
// produces; Ring (ring.h) wraps a validated RingData with the lookups. A
// default-constructed RingData is empty and invalid. Plain value type: not
// synchronised, copyable.
//
//   RingData data;
//   data.part_shift = 32 - 4;                      // 16 partitions
//   data.devices.push_back(RingDevice{...});        // id 0
//   data.replica2part2dev = {{0, 0, ...}, ...};     // one row per replica
//   RETURN_IF_ERROR(data.Validate());
#ifndef DBREPL_COMMON_RING_RING_DATA_H_
#define DBREPL_COMMON_RING_RING_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"

namespace dbrepl {

// One device ("dev" dict) of the ring. `id` equals its index in
// RingData::devices. replication_ip/replication_port default to ip/port when
// the file omits them; region defaults to 1.
struct RingDevice {
  int id = 0;
  int region = 1;
  int zone = 0;
  std::string ip;
  int port = 0;
  std::string replication_ip;
  int replication_port = 0;
  std::string device;  // directory name under `devices`, e.g. "sdb1"
  double weight = 0;
  std::string meta;
};

bool operator==(const RingDevice& a, const RingDevice& b);
inline bool operator!=(const RingDevice& a, const RingDevice& b) { return !(a == b); }

// The largest part power dbrepl loads or builds. Swift allows 32, but a ring
// that large needs 8 GiB per replica row; real clusters use 10 to 24.
inline constexpr int kMaxPartPower = 28;

struct RingData {
  // Devices by id; nullopt marks a hole (a removed device).
  std::vector<absl::optional<RingDevice>> devices;
  // replica2part2dev[r][p] is the device id holding replica r of partition
  // p. Every row has partition_count() entries except the last, which may be
  // shorter (a fractional replica count).
  std::vector<std::vector<uint32_t>> replica2part2dev;
  // 32 - part_power.
  int part_shift = 32;
  // Optional keys of the file: the builder's version and the part power an
  // increase is heading to.
  absl::optional<int64_t> version;
  absl::optional<int64_t> next_part_power;
  // 1 or 2: the on-disk format this came from (1 for built rings).
  int format_version = 1;

  int part_power() const { return 32 - part_shift; }
  int64_t partition_count() const { return int64_t{1} << part_power(); }
  // Swift's replica_count: (rows - 1) + len(last row) / len(first row).
  double replica_count() const;

  // OK if the data is a usable ring: part power in [0, kMaxPartPower], at
  // least one full first row, later rows no longer than the first and only
  // the last one short, every entry naming an existing (non-hole) device,
  // and every device's id equal to its index. INVALID_ARGUMENT (or
  // DATA_LOSS-worthy detail in the message) otherwise; callers reading a file
  // wrap it as DATA_LOSS.
  absl::Status Validate() const;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_RING_DATA_H_
