// CompactId: a database id as Swift makes them, in 18 bytes. Swift's ids are
// str(uuid4()), and a newid appends "-<device>"; so an id is a uuid (16
// bytes) and a suffix ("", "-sdb1", ...) of which a cluster has a handful,
// interned by an IdInterner. Ids of any other form are not encodable, and
// callers keep them whole.
//
//   IdInterner interner;
//   CompactId c;
//   if (interner.Encode(id, &c)) { ... interner.Decode(c) == id ... }
//
// Not thread-safe: an IdInterner is guarded by its owner's lock.
#ifndef DBREPL_COMMON_DB_COMPACT_ID_H_
#define DBREPL_COMMON_DB_COMPACT_ID_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dbrepl {

struct CompactId {
  static constexpr uint16_t kNone = 0xffff;
  std::array<uint8_t, 16> uuid{};
  uint16_t suffix = kNone;  // kNone: not an encoded id.
  bool encoded() const { return suffix != kNone; }
  bool operator==(const CompactId& o) const { return suffix == o.suffix && uuid == o.uuid; }
};

class IdInterner {
 public:
  // Encodes `id` ("<lowercase uuid><suffix>"), interning its suffix; false
  // if it is of another form or the suffix table is full (65535).
  bool Encode(absl::string_view id, CompactId* out);
  // Encodes without interning: false also when the suffix is not known
  // (then no encoded id can equal `id`).
  bool Find(absl::string_view id, CompactId* out) const;
  // The id `c` was encoded from. `c` must be encoded().
  std::string Decode(const CompactId& c) const;

 private:
  std::vector<std::string> suffixes_;
};

// Lowercase hex <-> bytes; false for any other character or length.
bool HexToBytes(absl::string_view hex, uint8_t* out, size_t n);
std::string BytesToHex(const uint8_t* in, size_t n);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_COMPACT_ID_H_
