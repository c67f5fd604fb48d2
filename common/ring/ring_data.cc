#include "common/ring/ring_data.h"

#include "absl/strings/str_cat.h"

namespace dbrepl {

bool operator==(const RingDevice& a, const RingDevice& b) {
  return a.id == b.id && a.region == b.region && a.zone == b.zone && a.ip == b.ip && a.port == b.port &&
         a.replication_ip == b.replication_ip && a.replication_port == b.replication_port &&
         a.device == b.device && a.weight == b.weight && a.meta == b.meta;
}

double RingData::replica_count() const {
  if (replica2part2dev.empty() || replica2part2dev.front().empty()) return 0;
  return static_cast<double>(replica2part2dev.size() - 1) +
         static_cast<double>(replica2part2dev.back().size()) / replica2part2dev.front().size();
}

absl::Status RingData::Validate() const {
  if (part_shift < 32 - kMaxPartPower || part_shift > 32) {
    return absl::InvalidArgumentError(absl::StrCat("part_shift ", part_shift, " is outside [", 32 - kMaxPartPower,
                                                   ", 32] (part power at most ", kMaxPartPower, ")"));
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].has_value() && devices[i]->id != static_cast<int>(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("device at index ", i, " has id ", devices[i]->id, "; ids must equal their index"));
    }
  }
  if (replica2part2dev.empty()) return absl::InvalidArgumentError("the ring has no replica rows");
  const uint64_t parts = static_cast<uint64_t>(partition_count());
  if (replica2part2dev.front().size() != parts) {
    return absl::InvalidArgumentError(absl::StrCat("replica row 0 has ", replica2part2dev.front().size(),
                                                   " entries; part power ", part_power(), " needs ", parts));
  }
  for (size_t r = 0; r < replica2part2dev.size(); ++r) {
    const auto& row = replica2part2dev[r];
    const bool last = r + 1 == replica2part2dev.size();
    if (row.size() > parts || (!last && row.size() != parts)) {
      return absl::InvalidArgumentError(absl::StrCat("replica row ", r, " has ", row.size(), " entries; expected ",
                                                     last ? "at most " : "", parts));
    }
    for (size_t p = 0; p < row.size(); ++p) {
      const uint32_t id = row[p];
      if (id >= devices.size() || !devices[id].has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("replica ", r, " of partition ", p, " names device ", id,
                                                       ", which is not in the device list"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace dbrepl
