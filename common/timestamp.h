// Swift's Timestamp (swift.common.utils.Timestamp): the fixed-width time
// strings every Swift database column, metadata entry and row carries, and
// the encoding of three timestamps into one container `created_at`.
//
//   ASSIGN_OR_RETURN(Timestamp t, Timestamp::Parse("1402464677.04188_a"));
//   t.Normal()    == "1402464677.04188"
//   t.Internal()  == "1402464677.04188_000000000000000a"
//   t.Short()     == "1402464677.04188_a"
//   t.raw()       == 140246467704188  (units of 1e-5 s)
//
// Forms (swift/common/utils/timestamp.py, Timestamp.normal/internal/short):
//   normal    "%016.05f" of the seconds: 10 integer digits, '.', 5 decimals.
//   internal  normal + "_%016x" offset, only when the offset is not zero.
//   short     normal + "_%x" offset, only when the offset is not zero.
// Ordering and equality are those of the internal string, which the fixed
// width makes chronological; a time with an offset sorts after the same time
// without one.
//
// Like Python's Timestamp, the seconds are kept as the given double (the
// normal form rounds them when printing) and `raw` is round-half-even of
// seconds / 1e-5. Valid range: 0 <= seconds < 1e10, offset < 16**16.
//
// All functions are pure and thread-safe. Parse errors are INVALID_ARGUMENT.
#ifndef DBREPL_COMMON_TIMESTAMP_H_
#define DBREPL_COMMON_TIMESTAMP_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

class Timestamp {
 public:
  // Timestamp(0): "0000000000.00000".
  Timestamp() = default;

  // Python's Timestamp(float, offset=offset). INVALID_ARGUMENT when out of
  // range or not finite.
  static absl::StatusOr<Timestamp> FromSeconds(double seconds, uint64_t offset = 0);
  // Python's Timestamp(raw * PRECISION): `raw` units of 1e-5 s.
  static absl::StatusOr<Timestamp> FromRaw(int64_t raw);
  // Python's Timestamp(str): "<float>[_<hex offset>]", e.g. "1.5",
  // "0000000001.00000", "0", "1402464677.04188_000000000000000a".
  static absl::StatusOr<Timestamp> Parse(absl::string_view text);
  // The current wall-clock time (Timestamp.now()).
  static Timestamp Now();
  static Timestamp Zero() { return Timestamp(); }

  double seconds() const { return seconds_; }
  uint64_t offset() const { return offset_; }
  int64_t raw() const { return raw_; }

  std::string Normal() const;
  std::string Internal() const;
  std::string Short() const;

  // -1, 0, 1 as the internal strings compare.
  int Compare(const Timestamp& other) const;
  bool operator==(const Timestamp& o) const { return Compare(o) == 0; }
  bool operator!=(const Timestamp& o) const { return Compare(o) != 0; }
  bool operator<(const Timestamp& o) const { return Compare(o) < 0; }
  bool operator<=(const Timestamp& o) const { return Compare(o) <= 0; }
  bool operator>(const Timestamp& o) const { return Compare(o) > 0; }
  bool operator>=(const Timestamp& o) const { return Compare(o) >= 0; }

 private:
  double seconds_ = 0;
  uint64_t offset_ = 0;
  int64_t raw_ = 0;
};

// The three timestamps of a container row: data (PUT/DELETE), content type,
// metadata (POST).
struct ObjectTimestamps {
  Timestamp data;
  Timestamp ctype;
  Timestamp meta;
};

// Swift's encode_timestamps(t1, t2, t3): t1.short, then "{:+x}" of
// t2.raw - t1.raw and of t3.raw - t2.raw, appended only when either delta is
// not zero. E.g. "1700000000.00000+a+5".
std::string EncodeTimestamps(const Timestamp& data, const Timestamp& ctype, const Timestamp& meta);

// Swift's decode_timestamps(encoded): the inverse. Missing deltas mean "same
// as the previous component" (which keeps t1's offset).
absl::StatusOr<ObjectTimestamps> DecodeTimestamps(absl::string_view encoded);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_TIMESTAMP_H_
