#include "common/timestamp.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"

namespace dbrepl {
namespace {

constexpr double kPrecision = 1e-5;
constexpr double kMaxSeconds = 10000000000.0;  // Exclusive.

absl::Status Invalid(absl::string_view what, absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("invalid timestamp ", what, ": '", absl::CHexEscape(text), "'"));
}

// int(text, 16) for the forms Swift ever writes: optional "0x", hex digits.
bool ParseHex(absl::string_view text, uint64_t* out) {
  text = absl::StripAsciiWhitespace(text);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
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
    if (v > (UINT64_MAX >> 4)) return false;  // Beyond 16**16 - 1.
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<Timestamp> Timestamp::FromSeconds(double seconds, uint64_t offset) {
  if (!std::isfinite(seconds)) return Invalid("value", absl::StrCat(seconds));
  if (seconds < 0) return absl::InvalidArgumentError("timestamp cannot be negative");
  if (seconds >= kMaxSeconds) return absl::InvalidArgumentError("timestamp too large");
  Timestamp t;
  t.seconds_ = seconds;
  t.offset_ = offset;
  // Python's round(): half to even, which nearbyint does in the default mode.
  t.raw_ = static_cast<int64_t>(std::nearbyint(seconds / kPrecision));
  return t;
}

absl::StatusOr<Timestamp> Timestamp::FromRaw(int64_t raw) {
  return FromSeconds(static_cast<double>(raw) * kPrecision);
}

absl::StatusOr<Timestamp> Timestamp::Parse(absl::string_view text) {
  absl::string_view base = text;
  absl::string_view offset_text;
  size_t underscore = text.find('_');
  if (underscore != absl::string_view::npos) {
    base = text.substr(0, underscore);
    offset_text = text.substr(underscore + 1);
    if (offset_text.find('_') != absl::string_view::npos) return Invalid("offset", text);
  }
  double seconds;
  if (!absl::SimpleAtod(base, &seconds)) return Invalid("value", text);
  uint64_t offset = 0;
  if (!offset_text.empty() && !ParseHex(offset_text, &offset)) return Invalid("offset", text);
  return FromSeconds(seconds, offset);
}

Timestamp Timestamp::Now() { return *FromSeconds(NowSeconds()); }

std::string Timestamp::Normal() const { return absl::StrFormat("%016.05f", seconds_); }

std::string Timestamp::Internal() const {
  if (offset_ == 0) return Normal();
  return absl::StrFormat("%016.05f_%016x", seconds_, offset_);
}

std::string Timestamp::Short() const {
  if (offset_ == 0) return Normal();
  return absl::StrFormat("%016.05f_%x", seconds_, offset_);
}

int Timestamp::Compare(const Timestamp& other) const {
  // The normal forms have the same width over the valid range, so comparing
  // (normal, offset) is comparing the internal strings.
  int c = Normal().compare(other.Normal());
  if (c != 0) return c < 0 ? -1 : 1;
  if (offset_ == other.offset_) return 0;
  return offset_ < other.offset_ ? -1 : 1;
}

std::string EncodeTimestamps(const Timestamp& data, const Timestamp& ctype, const Timestamp& meta) {
  std::string out = data.Short();
  int64_t d2 = ctype.raw() - data.raw();
  int64_t d3 = meta.raw() - ctype.raw();
  if (d2 != 0 || d3 != 0) {
    auto signed_hex = [](int64_t v) {
      return v < 0 ? absl::StrFormat("-%x", static_cast<uint64_t>(-v)) : absl::StrFormat("+%x", v);
    };
    absl::StrAppend(&out, signed_hex(d2), signed_hex(d3));
  }
  return out;
}

absl::StatusOr<ObjectTimestamps> DecodeTimestamps(absl::string_view encoded) {
  // "x-y+z" -> parts [x, y, z], signs [+1, -1, +1].
  std::vector<absl::string_view> parts;
  std::vector<int> signs;
  for (absl::string_view pos : absl::StrSplit(encoded, '+')) {
    bool first = true;
    for (absl::string_view neg : absl::StrSplit(pos, '-')) {
      parts.push_back(neg);
      signs.push_back(first ? 1 : -1);
      first = false;
    }
  }
  ObjectTimestamps out;
  auto t1 = Timestamp::Parse(parts[0]);
  if (!t1.ok()) return t1.status();
  out.data = out.ctype = out.meta = *t1;
  auto delta = [&](size_t i, int64_t* d) -> absl::Status {
    uint64_t magnitude;
    if (!ParseHex(parts[i], &magnitude) || magnitude > static_cast<uint64_t>(INT64_MAX)) {
      return Invalid("delta", encoded);
    }
    *d = signs[i] * static_cast<int64_t>(magnitude);
    return absl::OkStatus();
  };
  if (parts.size() > 1) {
    int64_t d;
    if (auto s = delta(1, &d); !s.ok()) return s;
    if (d != 0) {
      auto t2 = Timestamp::FromRaw(out.data.raw() + d);
      if (!t2.ok()) return t2.status();
      out.ctype = *t2;
    }
    out.meta = out.ctype;
  }
  if (parts.size() > 2) {
    int64_t d;
    if (auto s = delta(2, &d); !s.ok()) return s;
    if (d != 0) {
      auto t3 = Timestamp::FromRaw(out.ctype.raw() + d);
      if (!t3.ok()) return t3.status();
      out.meta = *t3;
    }
  }
  return out;
}

}  // namespace dbrepl
