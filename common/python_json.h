// The one JSON writer: Python's json.dumps(value, ensure_ascii=True) with the
// default separators, byte for byte, for the JSON Swift keeps on disk (a
// database's metadata column, the ring header, the recon cache). nlohmann's
// json is the value model and the parser; its own dump() cannot write Python's
// ", " and ": " separators or Python's float layout, so this does the writing.
//
//   nlohmann::json recon = {{"replication_last", 1700000001.75}, {"b", "sd\xc3\xa9"}};
//   ASSIGN_OR_RETURN(std::string line, PythonJsonDumps(recon));
//   // {"b": "sd\u00e9", "replication_last": 1700000001.75}
//
// Key order: nlohmann::json keeps an object's keys in a std::map, i.e. in
// byte order, which for UTF-8 is code-point order: json.dumps(sort_keys=True),
// as the ring and the recon cache are written. nlohmann::ordered_json keeps
// insertion order: json.dumps() of a dict read with json.loads(), as Swift
// writes metadata.
//
// Strings must be valid UTF-8; anything else is INVALID_ARGUMENT, never
// replaced or escaped byte by byte. Swift cannot produce such a string:
// its str values are code points, and the text that reaches json.dumps is
// checked first (swift/common/constraints.py, check_metadata and check_utf8
// answer 400 "Metadata must be valid UTF-8" for account and container
// metadata; names fail check_utf8 likewise). An invalid string here is
// therefore a bug or corruption: writing U+FFFD would silently change the
// data, and writing Python's surrogate escapes (\udcff) would produce JSON our
// own reader (nlohmann, which rejects lone surrogates) could not read back.
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_PYTHON_JSON_H_
#define DBREPL_COMMON_PYTHON_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json_fwd.hpp"

namespace dbrepl {

// json.dumps(value, sort_keys=True, ensure_ascii=True): ", " between items,
// ": " after keys, integers in decimal, floats as repr() (common/
// python_float.h) except NaN, Infinity and -Infinity, strings as
// PythonJsonString(). INVALID_ARGUMENT for a string that is not UTF-8 or a
// binary value (JSON has none).
absl::StatusOr<std::string> PythonJsonDumps(const nlohmann::json& value);

// The same with the object keys in insertion order (sort_keys=False).
absl::StatusOr<std::string> PythonJsonDumps(const nlohmann::ordered_json& value);

// One JSON string literal with ensure_ascii: '"' and '\' escaped, \n \r \t \b
// \f by name, every other character outside ' '..'~' as a lowercase \uXXXX
// (a surrogate pair above U+FFFF). INVALID_ARGUMENT, naming the byte offset,
// if `utf8` is not valid UTF-8 (overlong forms and encoded surrogates
// included).
absl::StatusOr<std::string> PythonJsonString(absl::string_view utf8);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_PYTHON_JSON_H_
