#include "common/db/compact_id.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace dbrepl {
namespace {

constexpr size_t kUuidChars = 36;

bool ParseUuid(absl::string_view s, std::array<uint8_t, 16>* out) {
  if (s.size() != kUuidChars || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  std::string hex = absl::StrCat(s.substr(0, 8), s.substr(9, 4), s.substr(14, 4), s.substr(19, 4), s.substr(24));
  return HexToBytes(hex, out->data(), 16);
}

std::string FormatUuid(const std::array<uint8_t, 16>& u) {
  std::string h = BytesToHex(u.data(), 16);
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-", h.substr(16, 4), "-",
                      h.substr(20));
}

}  // namespace

bool HexToBytes(absl::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + k];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

std::string BytesToHex(const uint8_t* in, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(in), n));
}

bool IdInterner::Find(absl::string_view id, CompactId* out) const {
  if (id.size() < kUuidChars || !ParseUuid(id.substr(0, kUuidChars), &out->uuid)) return false;
  auto s = std::find(suffixes_.begin(), suffixes_.end(), id.substr(kUuidChars));
  if (s == suffixes_.end()) return false;
  out->suffix = static_cast<uint16_t>(s - suffixes_.begin());
  return true;
}

bool IdInterner::Encode(absl::string_view id, CompactId* out) {
  if (id.size() < kUuidChars || !ParseUuid(id.substr(0, kUuidChars), &out->uuid)) return false;
  const absl::string_view suffix = id.substr(kUuidChars);
  auto s = std::find(suffixes_.begin(), suffixes_.end(), suffix);
  if (s == suffixes_.end()) {
    if (suffixes_.size() >= CompactId::kNone) return false;
    s = suffixes_.insert(suffixes_.end(), std::string(suffix));
  }
  out->suffix = static_cast<uint16_t>(s - suffixes_.begin());
  return true;
}

std::string IdInterner::Decode(const CompactId& c) const {
  return absl::StrCat(FormatUuid(c.uuid), suffixes_[c.suffix]);
}

}  // namespace dbrepl
