#include "common/ring/ring.h"

#include "absl/strings/str_cat.h"
#include "common/ring/ring_format.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

uint64_t FirstFourBytes(const Md5Digest& d) {
  return (uint64_t{d[0]} << 24) | (uint64_t{d[1]} << 16) | (uint64_t{d[2]} << 8) | uint64_t{d[3]};
}

RingNode MakeNode(const RingDevice& dev) {
  RingNode node;
  static_cast<RingDevice&>(node) = dev;
  return node;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ring>> Ring::Load(const std::string& path) {
  ASSIGN_OR_RETURN(RingData data, ReadRingFile(path));
  return std::unique_ptr<Ring>(new Ring(std::move(data)));
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::FromData(RingData data) {
  RETURN_IF_ERROR(data.Validate());
  return std::unique_ptr<Ring>(new Ring(std::move(data)));
}

Ring::Ring(RingData data) : data_(std::move(data)) {
  std::vector<bool> has_parts(data_.devices.size(), false);
  for (const auto& row : data_.replica2part2dev) {
    for (uint32_t id : row) has_parts[id] = true;
  }
  std::set<int> regions;
  std::set<std::pair<int, int>> zones;
  std::set<std::tuple<int, int, std::string>> ips;
  for (const auto& dev : data_.devices) {
    if (!dev.has_value()) continue;
    ++num_devices_;
    if (dev->weight > 0) ++num_weighted_devices_;
    if (has_parts[dev->id]) {
      ++num_assigned_devices_;
      regions.insert(dev->region);
      zones.emplace(dev->region, dev->zone);
      ips.emplace(dev->region, dev->zone, dev->ip);
    }
  }
  num_regions_ = regions.size();
  num_zones_ = zones.size();
  num_ips_ = ips.size();
}

const RingDevice* Ring::device(int64_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= data_.devices.size() || !data_.devices[id].has_value()) return nullptr;
  return &*data_.devices[id];
}

int64_t Ring::GetPart(const HashPathConfig& config, absl::string_view account, absl::string_view container) const {
  return static_cast<int64_t>(FirstFourBytes(HashPathRaw(config, account, container)) >> data_.part_shift);
}

std::vector<RingNode> Ring::GetPartNodes(int64_t part) const {
  std::vector<RingNode> nodes;
  if (part < 0) return nodes;
  for (const auto& row : data_.replica2part2dev) {
    if (static_cast<uint64_t>(part) >= row.size()) continue;
    const uint32_t id = row[part];
    bool seen = false;
    for (const RingNode& n : nodes) seen = seen || n.id == static_cast<int>(id);
    if (seen) continue;
    RingNode node = MakeNode(*data_.devices[id]);
    node.index = static_cast<int>(nodes.size());
    nodes.push_back(std::move(node));
  }
  return nodes;
}

HandoffIterator Ring::GetMoreNodes(int64_t part) const { return HandoffIterator(this, part); }

std::vector<RingNode> Ring::GetMoreNodesList(int64_t part, int limit) const {
  std::vector<RingNode> out;
  HandoffIterator it = GetMoreNodes(part);
  while (limit < 0 || static_cast<int>(out.size()) < limit) {
    absl::optional<RingNode> node = it.Next();
    if (!node.has_value()) break;
    out.push_back(*std::move(node));
  }
  return out;
}

HandoffIterator::HandoffIterator(const Ring* ring, int64_t part) : ring_(ring) {
  used_.assign(ring->data_.devices.size(), false);
  for (const RingNode& node : ring->GetPartNodes(part)) {
    used_[node.id] = true;
    ++used_count_;
    same_regions_.insert(node.region);
    same_zones_.emplace(node.region, node.zone);
    same_ips_.emplace(node.region, node.zone, node.ip);
  }
  const int64_t parts = static_cast<int64_t>(ring->data_.replica2part2dev.front().size());
  start_ = static_cast<int64_t>(FirstFourBytes(Md5(absl::StrCat(part))) >> ring->data_.part_shift);
  inc_ = parts / 65536 > 0 ? parts / 65536 : 1;
}

bool HandoffIterator::HitAll() const {
  switch (pass_) {
    case 0: return same_regions_.size() == ring_->num_regions_;
    case 1: return same_zones_.size() == ring_->num_zones_;
    case 2: return same_ips_.size() == ring_->num_ips_;
    default: return used_count_ == static_cast<size_t>(ring_->num_assigned_devices_);
  }
}

bool HandoffIterator::Wanted(const RingDevice& dev) const {
  if (used_[dev.id]) return false;
  switch (pass_) {
    case 0: return same_regions_.count(dev.region) == 0;
    case 1: return same_zones_.count({dev.region, dev.zone}) == 0;
    case 2: return same_ips_.count({dev.region, dev.zone, dev.ip}) == 0;
    default: return true;
  }
}

void HandoffIterator::Use(const RingDevice& dev) {
  used_[dev.id] = true;
  ++used_count_;
  // Each pass records the tiers the later passes look at.
  if (pass_ <= 0) same_regions_.insert(dev.region);
  if (pass_ <= 1) same_zones_.emplace(dev.region, dev.zone);
  if (pass_ <= 2) same_ips_.emplace(dev.region, dev.zone, dev.ip);
}

bool HandoffIterator::StartPass() {
  // The scan is range(start, parts, inc) then
  // range(inc - ((parts - start) % inc), start, inc).
  scan_part_ = start_;
  wrapped_ = false;
  replica_ = 0;
  hit_all_ = HitAll();
  const int64_t parts = static_cast<int64_t>(ring_->data_.replica2part2dev.front().size());
  if (scan_part_ >= parts) {
    wrapped_ = true;
    scan_part_ = inc_ - ((parts - start_) % inc_);
  }
  return !(wrapped_ && scan_part_ >= start_);
}

bool HandoffIterator::AdvanceScan() {
  const int64_t parts = static_cast<int64_t>(ring_->data_.replica2part2dev.front().size());
  scan_part_ += inc_;
  replica_ = 0;
  if (!wrapped_ && scan_part_ >= parts) {
    wrapped_ = true;
    scan_part_ = inc_ - ((parts - start_) % inc_);
  }
  return !(wrapped_ && scan_part_ >= start_);
}

absl::optional<RingNode> HandoffIterator::Next() {
  const auto& rows = ring_->data_.replica2part2dev;
  bool in_scan = pass_ >= 0 && pass_ < 4;
  if (pass_ < 0) {
    pass_ = 0;
    in_scan = StartPass();
  }
  while (pass_ < 4) {
    if (!in_scan || hit_all_) {
      ++pass_;
      if (pass_ >= 4) break;
      in_scan = StartPass();
      continue;
    }
    while (replica_ < rows.size()) {
      const auto& row = rows[replica_++];
      if (static_cast<uint64_t>(scan_part_) >= row.size()) continue;
      const RingDevice& dev = *ring_->data_.devices[row[scan_part_]];
      if (!Wanted(dev)) continue;
      Use(dev);
      // Like Swift, stop looking at this partition's remaining replicas once
      // the pass has seen everything; the pass then ends.
      if (HitAll()) {
        hit_all_ = true;
        replica_ = rows.size();
      }
      RingNode node = MakeNode(dev);
      node.handoff_index = next_handoff_index_++;
      return node;
    }
    in_scan = AdvanceScan();
  }
  return absl::nullopt;
}

}  // namespace dbrepl
