#include "common/chexor.h"

#include <array>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/hash_path.h"

namespace dbrepl {
namespace {

// Parses up to 128 bits of hex into 16 big-endian bytes.
bool ParseHex128(absl::string_view hex, std::array<uint8_t, 16>* out) {
  hex = absl::StripAsciiWhitespace(hex);
  if (hex.size() > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.empty()) return false;
  while (hex.size() > 32 && hex[0] == '0') hex.remove_prefix(1);
  if (hex.size() > 32) return false;
  out->fill(0);
  // Fill nibbles from the least significant end.
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[hex.size() - 1 - i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    uint8_t& byte = (*out)[15 - i / 2];
    byte |= static_cast<uint8_t>(i % 2 == 0 ? d : d << 4);
  }
  return true;
}

}  // namespace

Md5Digest ChexorTerm(absl::string_view name, absl::string_view timestamp) {
  return Md5(absl::StrCat(name, "-", timestamp));
}

absl::StatusOr<std::string> ChexorApply(absl::string_view old_hex, const Md5Digest& mask) {
  std::array<uint8_t, 16> old;
  if (!ParseHex128(old_hex, &old)) {
    return absl::InvalidArgumentError(absl::StrCat("chexor: invalid hash '", absl::CHexEscape(old_hex), "'"));
  }
  Md5Digest out = mask;
  for (int i = 0; i < 16; ++i) out[i] ^= old[i];
  return DigestToHex(out);
}

absl::StatusOr<std::string> Chexor(absl::string_view old_hex, absl::string_view name,
                                   absl::string_view timestamp) {
  return ChexorApply(old_hex, ChexorTerm(name, timestamp));
}

}  // namespace dbrepl
