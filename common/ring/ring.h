// Swift's ring: which devices hold each partition (the primaries) and, when
// one of them is unavailable, which devices stand in (the handoffs), in
// exactly the order Swift's swift.common.ring.Ring computes them (reference
// §3.3 to §3.5).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Load("/etc/swift/container.ring.gz"));
//   int64_t part = ring->GetPart(hash_config, "AUTH_test", "photos");
//   std::vector<RingNode> primaries = ring->GetPartNodes(part);
//   HandoffIterator handoffs = ring->GetMoreNodes(part);
//   while (absl::optional<RingNode> node = handoffs.Next()) { ... }
//
// A Ring is immutable once loaded and safe to share between threads; it
// never re-reads its file (ReloadingRing in reloading_ring.h does that).
// A HandoffIterator is a lazy generator like Swift's get_more_nodes(): each
// Next() does only the work needed for one more node. It points into its
// Ring, which must outlive it, and is not thread-safe.
#ifndef DBREPL_COMMON_RING_RING_H_
#define DBREPL_COMMON_RING_RING_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/hash_path.h"
#include "common/ring/ring_data.h"

namespace dbrepl {

// A device as returned for one partition: a primary carries its position
// among the primaries in `index`, a handoff its position among the handoffs
// in `handoff_index` (Swift's node dicts); the other is -1.
struct RingNode : RingDevice {
  int index = -1;
  int handoff_index = -1;

  bool is_handoff() const { return handoff_index >= 0; }
};

class Ring;

// Handoff nodes for one partition, in Swift's order: four passes over the
// partitions from a start derived from md5(str(part)) (stepping by
// max(1, partitions / 65536) and wrapping), taking first devices in new
// regions, then new zones, then new IPs, then any device not yet used. A
// pass stops early once every region/zone/IP/device with assignments has
// been seen. Primaries are never returned; each device at most once.
class HandoffIterator {
 public:
  // The next handoff, or nullopt when every assigned device has been
  // returned or is a primary.
  absl::optional<RingNode> Next();

 private:
  friend class Ring;
  HandoffIterator(const Ring* ring, int64_t part);

  // Sets up pass `pass_` (0..3); returns false if it has nothing to do.
  bool StartPass();
  bool HitAll() const;
  bool Wanted(const RingDevice& dev) const;
  void Use(const RingDevice& dev);
  // Moves to the next partition of the scan; false at the end of it.
  bool AdvanceScan();

  const Ring* ring_;
  int pass_ = -1;          // -1 before the first pass; 4 when done
  int64_t start_ = 0;      // first partition of every scan
  int64_t inc_ = 1;
  int64_t scan_part_ = 0;  // the partition being scanned
  bool wrapped_ = false;   // in the second range of the scan
  size_t replica_ = 0;     // next replica row to look at for scan_part_
  bool hit_all_ = false;
  int next_handoff_index_ = 0;
  std::vector<bool> used_;  // by device id
  size_t used_count_ = 0;
  std::set<int> same_regions_;
  std::set<std::pair<int, int>> same_zones_;
  std::set<std::tuple<int, int, std::string>> same_ips_;
};

class Ring {
 public:
  // Reads and validates a ring file (v1 or v2). NOT_FOUND if absent,
  // DATA_LOSS naming the problem if corrupt or truncated.
  static absl::StatusOr<std::unique_ptr<Ring>> Load(const std::string& path);
  // Wraps already-decoded data; INVALID_ARGUMENT if it does not validate.
  static absl::StatusOr<std::unique_ptr<Ring>> FromData(RingData data);

  // The partition of account[/container]: the first four bytes of
  // hash_path, big-endian, shifted right by part_shift.
  int64_t GetPart(const HashPathConfig& config, absl::string_view account,
                  absl::string_view container = {}) const;

  // The primaries of `part`: for each replica row in order the device at
  // `part`, duplicates dropped, `index` numbered 0.. in that order. Empty if
  // `part` is outside [0, partition_count()).
  std::vector<RingNode> GetPartNodes(int64_t part) const;

  // Lazy handoffs of `part`; see HandoffIterator. This ring must outlive it.
  HandoffIterator GetMoreNodes(int64_t part) const;
  // The first `limit` handoffs (all of them when limit < 0).
  std::vector<RingNode> GetMoreNodesList(int64_t part, int limit = -1) const;

  // Swift's replica_count: fractional when the last row is short.
  double replica_count() const { return data_.replica_count(); }
  size_t replica_rows() const { return data_.replica2part2dev.size(); }
  int64_t partition_count() const { return data_.partition_count(); }
  int part_power() const { return data_.part_power(); }
  int part_shift() const { return data_.part_shift; }
  // By id; nullopt entries are holes left by removed devices.
  const std::vector<absl::optional<RingDevice>>& devices() const { return data_.devices; }
  // The device with `id`, or null if there is none.
  const RingDevice* device(int64_t id) const;
  const RingData& data() const { return data_; }
  // Devices (not holes) in the ring, those with weight > 0, and those with at
  // least one partition assigned.
  int device_count() const { return num_devices_; }
  int weighted_device_count() const { return num_weighted_devices_; }
  int assigned_device_count() const { return num_assigned_devices_; }

 private:
  friend class HandoffIterator;
  explicit Ring(RingData data);

  RingData data_;
  int num_devices_ = 0;
  int num_weighted_devices_ = 0;
  int num_assigned_devices_ = 0;
  // Counted over devices with assignments only, as Swift does, so that the
  // handoff passes can stop early.
  size_t num_regions_ = 0;
  size_t num_zones_ = 0;
  size_t num_ips_ = 0;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_RING_H_
