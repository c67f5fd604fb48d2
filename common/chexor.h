// Swift's chexor: the rolling, order-independent hash of a database's rows
// (swift/common/db.py, chexor).
//
//   chexor(old, name, ts) = old XOR md5("<name>-<ts>")   (as 32 hex digits)
//
//   ASSIGN_OR_RETURN(std::string h, Chexor(kEmptyDbHash, "o", "0000000001.00000"));
//   // h == "74930d4241dd50160de5da0a94a90443"
//
// A row is hashed in when inserted and XORed out again when deleted, so a
// database's hash is the XOR over its current rows. Container rows hash
// (name, created_at); account rows hash (name, "<put>-<delete>-<objects>-
// <bytes>"). The broker registers this as the SQL function chexor(old, name,
// timestamp) used by the schema's triggers.
//
// Pure and thread-safe.
#ifndef DBREPL_COMMON_CHEXOR_H_
#define DBREPL_COMMON_CHEXOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/hash_path.h"

namespace dbrepl {

// The hash of an empty database.
inline constexpr char kEmptyDbHash[] = "00000000000000000000000000000000";

// Returns the new hash as 32 lowercase hex digits. `old_hex` is parsed like
// Python's int(old, 16) (case-insensitive, optional "0x", at most 128 bits);
// INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> Chexor(absl::string_view old_hex, absl::string_view name,
                                   absl::string_view timestamp);

// What one row contributes: md5("<name>-<timestamp>"). Chexor(old, n, t) is
// ChexorApply(old, ChexorTerm(n, t)); since XOR is associative, the terms
// of many rows may be XORed together first and applied once, with the same
// result as applying them one by one.
Md5Digest ChexorTerm(absl::string_view name, absl::string_view timestamp);

// `old_hex` XOR `mask`, as 32 lowercase hex digits; `old_hex` as in Chexor.
absl::StatusOr<std::string> ChexorApply(absl::string_view old_hex, const Md5Digest& mask);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CHEXOR_H_
