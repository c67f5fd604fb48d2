#include "common/ring/ring_builder.h"

#include <cmath>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/net/ip_address.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

constexpr double kMaxBalance = 999.99;

absl::Status BadSpec(absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad device '", spec, "' (", why,
                   "); expected REGION/ZONE/IP:PORT/DEVICE[/WEIGHT] or "
                   "rREGIONzZONE-IP:PORT[RIP:PORT]/DEVICE[_META][/WEIGHT]"));
}

absl::StatusOr<int> ParseSmallInt(absl::string_view spec, absl::string_view text, absl::string_view what, int min,
                                  int max) {
  int v;
  if (text.empty() || !absl::SimpleAtoi(text, &v) || v < min || v > max) {
    return BadSpec(spec, absl::StrCat(what, " '", text, "' is not an integer in [", min, ", ", max, "]"));
  }
  return v;
}

// "IP:PORT" or "[IPV6]:PORT"; the IP normalised as Swift's
// validate_and_normalize_address does (lowercase, canonical IPv6).
absl::Status ParseAddress(absl::string_view spec, absl::string_view text, std::string* ip, int* port) {
  absl::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return BadSpec(spec, absl::StrCat("address '", text, "' is not [IPV6]:PORT"));
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return BadSpec(spec, absl::StrCat("address '", text, "' has no port"));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  const std::string lower = absl::AsciiStrToLower(host);
  if (!IsValidIp(lower) && !IsValidHostname(lower)) {
    return BadSpec(spec, absl::StrCat("'", host, "' is neither an IP address nor a hostname"));
  }
  *ip = NormalizeIp(lower);
  ASSIGN_OR_RETURN(*port, ParseSmallInt(spec, port_text, "port", 0, 65535));
  return absl::OkStatus();
}

absl::Status ParseWeight(absl::string_view spec, absl::string_view text, double* weight) {
  if (!absl::SimpleAtod(text, weight) || !std::isfinite(*weight) || *weight < 0) {
    return BadSpec(spec, absl::StrCat("weight '", text, "' is not a non-negative number"));
  }
  return absl::OkStatus();
}

// Swift's add syntax: [rN]zN-IP:PORT[RIP:PORT]/DEVICE[_META], plus our
// optional /WEIGHT.
absl::StatusOr<RingDevice> ParseSwiftForm(absl::string_view spec) {
  RingDevice d;
  d.weight = 1;
  absl::string_view rest = spec;
  const auto take_number = [&rest]() {
    size_t i = 1;
    while (i < rest.size() && absl::ascii_isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    absl::string_view digits = rest.substr(1, i - 1);
    rest.remove_prefix(i);
    return digits;
  };
  if (!rest.empty() && rest.front() == 'r') {
    ASSIGN_OR_RETURN(d.region, ParseSmallInt(spec, take_number(), "region", 0, 1 << 30));
  }
  if (rest.empty() || rest.front() != 'z') return BadSpec(spec, "no zone");
  ASSIGN_OR_RETURN(d.zone, ParseSmallInt(spec, take_number(), "zone", 0, 1 << 30));
  if (rest.empty() || rest.front() != '-') return BadSpec(spec, "no '-' after the zone");
  rest.remove_prefix(1);
  // The address runs to the 'R' of a replication address or the '/'.
  const auto address_end = [&rest]() {
    size_t i = 0;
    bool bracket = false;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '[') bracket = true;
      if (rest[i] == ']') bracket = false;
      if (!bracket && (rest[i] == 'R' || rest[i] == '/')) break;
    }
    return i;
  };
  size_t end = address_end();
  RETURN_IF_ERROR(ParseAddress(spec, rest.substr(0, end), &d.ip, &d.port));
  rest.remove_prefix(end);
  d.replication_ip = d.ip;
  d.replication_port = d.port;
  if (!rest.empty() && rest.front() == 'R') {
    rest.remove_prefix(1);
    end = address_end();
    RETURN_IF_ERROR(ParseAddress(spec, rest.substr(0, end), &d.replication_ip, &d.replication_port));
    rest.remove_prefix(end);
  }
  if (rest.empty() || rest.front() != '/') return BadSpec(spec, "no '/DEVICE'");
  rest.remove_prefix(1);
  // A trailing "/NUMBER" is the weight.
  const size_t last_slash = rest.rfind('/');
  if (last_slash != absl::string_view::npos) {
    RETURN_IF_ERROR(ParseWeight(spec, rest.substr(last_slash + 1), &d.weight));
    rest = rest.substr(0, last_slash);
  }
  const size_t underscore = rest.find('_');
  d.device = std::string(rest.substr(0, underscore));
  if (underscore != absl::string_view::npos) d.meta = std::string(rest.substr(underscore + 1));
  return d;
}

absl::StatusOr<RingDevice> ParseSlashForm(absl::string_view spec) {
  std::vector<absl::string_view> parts = absl::StrSplit(spec, '/');
  if (parts.size() != 4 && parts.size() != 5) return BadSpec(spec, "wrong number of '/'-separated fields");
  RingDevice d;
  d.weight = 1;
  ASSIGN_OR_RETURN(d.region, ParseSmallInt(spec, parts[0], "region", 0, 1 << 30));
  ASSIGN_OR_RETURN(d.zone, ParseSmallInt(spec, parts[1], "zone", 0, 1 << 30));
  RETURN_IF_ERROR(ParseAddress(spec, parts[2], &d.ip, &d.port));
  d.replication_ip = d.ip;
  d.replication_port = d.port;
  d.device = std::string(parts[3]);
  if (parts.size() == 5) RETURN_IF_ERROR(ParseWeight(spec, parts[4], &d.weight));
  return d;
}

}  // namespace

absl::StatusOr<RingDevice> ParseDeviceSpec(absl::string_view spec) {
  const bool swift_form = !spec.empty() && (spec.front() == 'r' || spec.front() == 'z');
  ASSIGN_OR_RETURN(RingDevice d, swift_form ? ParseSwiftForm(spec) : ParseSlashForm(spec));
  if (d.device.empty() || d.device.front() == ' ' || d.device.back() == ' ') {
    return BadSpec(spec, "empty device name");
  }
  return d;
}

absl::StatusOr<RingData> BuildRing(std::vector<RingDevice> devices, int part_power, double replicas) {
  if (part_power < 0 || part_power > kMaxPartPower) {
    return absl::InvalidArgumentError(
        absl::StrCat("part power ", part_power, " is outside [0, ", kMaxPartPower, "]"));
  }
  if (!std::isfinite(replicas) || replicas < 1) {
    return absl::InvalidArgumentError(absl::StrCat("replica count ", replicas, " is less than 1"));
  }
  if (devices.size() >= 0xffff) {
    return absl::InvalidArgumentError(absl::StrCat(devices.size(), " devices; a v1 ring holds at most 65534"));
  }
  const int64_t parts = int64_t{1} << part_power;
  std::vector<int64_t> row_len(static_cast<size_t>(std::floor(replicas)), parts);
  const double fraction = replicas - std::floor(replicas);
  if (fraction > 0) row_len.push_back(static_cast<int64_t>(parts * fraction));

  double total_weight = 0;
  std::vector<int> weighted;
  for (size_t i = 0; i < devices.size(); ++i) {
    RingDevice& d = devices[i];
    d.id = static_cast<int>(i);
    if (!std::isfinite(d.weight) || d.weight < 0) {
      return absl::InvalidArgumentError(absl::StrCat("device ", i, " has invalid weight ", d.weight));
    }
    if (d.weight > 0) {
      weighted.push_back(d.id);
      total_weight += d.weight;
    }
  }
  if (weighted.size() < row_len.size()) {
    return absl::InvalidArgumentError(absl::StrCat(row_len.size(), " replica rows need at least as many devices ",
                                                   "with weight; there are ", weighted.size()));
  }

  RingData data;
  data.part_shift = 32 - part_power;
  data.replica2part2dev.resize(row_len.size());
  for (size_t r = 0; r < row_len.size(); ++r) data.replica2part2dev[r].resize(row_len[r]);
  std::vector<int64_t> assigned(devices.size(), 0);
  std::vector<int> chosen;
  for (int64_t p = 0; p < parts; ++p) {
    chosen.clear();
    for (size_t r = 0; r < row_len.size(); ++r) {
      if (p >= row_len[r]) continue;
      int best = -1;
      std::tuple<int, int, int, double> best_key;
      for (int id : weighted) {
        const RingDevice& d = devices[id];
        int same_region = 0, same_zone = 0, same_ip = 0;
        bool taken = false;
        for (int c : chosen) {
          const RingDevice& o = devices[c];
          taken = taken || c == id;
          if (o.region != d.region) continue;
          ++same_region;
          if (o.zone != d.zone) continue;
          ++same_zone;
          if (o.ip == d.ip) ++same_ip;
        }
        if (taken) continue;
        // Fewest shared tiers first, then the device least filled for its
        // weight; `weighted` is in id order, so ties keep the lowest id.
        auto key = std::make_tuple(same_region, same_zone, same_ip, (assigned[id] + 1) / d.weight);
        if (best < 0 || key < best_key) {
          best = id;
          best_key = key;
        }
      }
      data.replica2part2dev[r][p] = static_cast<uint32_t>(best);
      ++assigned[best];
      chosen.push_back(best);
    }
  }
  data.devices.reserve(devices.size());
  for (RingDevice& d : devices) data.devices.emplace_back(std::move(d));
  RETURN_IF_ERROR(data.Validate());
  return data;
}

std::vector<int64_t> AssignmentsPerDevice(const RingData& data) {
  std::vector<int64_t> counts(data.devices.size(), 0);
  for (const auto& row : data.replica2part2dev) {
    for (uint32_t id : row) {
      if (id < counts.size()) ++counts[id];
    }
  }
  return counts;
}

std::vector<double> DeviceBalances(const RingData& data) {
  const std::vector<int64_t> counts = AssignmentsPerDevice(data);
  double total_weight = 0;
  for (const auto& d : data.devices) {
    if (d.has_value()) total_weight += d->weight;
  }
  // Swift's weight_of_one_part: assignments per unit of weight.
  const double weight_of_one_part =
      total_weight > 0 ? data.partition_count() * data.replica_count() / total_weight : 0;
  std::vector<double> balances(data.devices.size(), 0);
  for (size_t id = 0; id < data.devices.size(); ++id) {
    if (!data.devices[id].has_value()) continue;
    const double weight = data.devices[id]->weight;
    if (weight <= 0) {
      balances[id] = counts[id] > 0 ? kMaxBalance : 0;
    } else {
      balances[id] = 100.0 * counts[id] / (weight * weight_of_one_part) - 100.0;
    }
  }
  return balances;
}

}  // namespace dbrepl
