// Python json.dumps(..., sort_keys=True, ensure_ascii=True) formatting of the
// scalar values a ring header holds, so that dbrepl writes ring files byte for
// byte as Swift does (identical rings give identical files, which operators
// compare by checksum).
//
//   PyJsonFloat(100) == "100.0"; PyJsonFloat(1e16) == "1e+16"
//   PyJsonString("sdb1") == "\"sdb1\""; PyJsonString("\xc3\xa9") == "\"\\u00e9\""
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_RING_PYTHON_JSON_H_
#define DBREPL_COMMON_RING_PYTHON_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

// Python's repr(float) as json.dumps writes it: the shortest string that
// round-trips, in fixed notation for exponents in [-4, 16) (always with a
// fractional part, "1.0") and "d.ddde+XX" otherwise. NaN and infinities are
// written as Python does ("NaN", "Infinity", "-Infinity").
std::string PyJsonFloat(double value);

// A JSON string literal with ensure_ascii: '"' and '\\' escaped, \n \r \t \b
// \f by name, every other byte outside ' '..'~' as a lowercase \uXXXX
// (surrogate pairs above U+FFFF). INVALID_ARGUMENT if `utf8` is not valid
// UTF-8.
absl::StatusOr<std::string> PyJsonString(absl::string_view utf8);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_PYTHON_JSON_H_
