#include "common/python_json.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/python_float.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace dbrepl {
namespace {

// Decodes one UTF-8 sequence at s[*i]; false if it is malformed, overlong,
// a surrogate or beyond U+10FFFF.
bool DecodeUtf8(absl::string_view s, size_t* i, uint32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(*i);
  int len;
  uint32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, *cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, *cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*i + len > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    const unsigned char b = byte(*i + k);
    if ((b & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return false;
  *i += len;
  return true;
}

// Python's json float: repr(), but NaN and the infinities as JavaScript names.
std::string JsonFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return PythonFloatRepr(value);
}

template <typename Json>
absl::StatusOr<std::string> Dumps(const Json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null: return std::string("null");
    case Type::boolean: return std::string(value.template get<bool>() ? "true" : "false");
    case Type::number_integer: return absl::StrCat(value.template get<int64_t>());
    case Type::number_unsigned: return absl::StrCat(value.template get<uint64_t>());
    case Type::number_float: return JsonFloat(value.template get<double>());
    case Type::string: return PythonJsonString(value.template get_ref<const std::string&>());
    case Type::array: {
      std::vector<std::string> parts;
      for (const Json& element : value) {
        ASSIGN_OR_RETURN(std::string part, Dumps(element));
        parts.push_back(std::move(part));
      }
      return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
    }
    case Type::object: {
      std::vector<std::string> parts;
      for (auto it = value.begin(); it != value.end(); ++it) {
        ASSIGN_OR_RETURN(std::string key, PythonJsonString(it.key()));
        ASSIGN_OR_RETURN(std::string element, Dumps(it.value()));
        parts.push_back(absl::StrCat(key, ": ", element));
      }
      return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
    }
    default: return absl::InvalidArgumentError("JSON has no binary values");
  }
}

}  // namespace

absl::StatusOr<std::string> PythonJsonDumps(const nlohmann::json& value) { return Dumps(value); }

absl::StatusOr<std::string> PythonJsonDumps(const nlohmann::ordered_json& value) { return Dumps(value); }

absl::StatusOr<std::string> PythonJsonString(absl::string_view utf8) {
  std::string out = "\"";
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp;
    if (!DecodeUtf8(utf8, &i, &cp)) {
      return absl::InvalidArgumentError(absl::StrCat("string is not valid UTF-8 at byte ", i));
    }
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7e) {
      out.push_back(static_cast<char>(cp));
    } else if (cp <= 0xffff) {
      absl::StrAppendFormat(&out, "\\u%04x", cp);
    } else {
      const uint32_t v = cp - 0x10000;
      absl::StrAppendFormat(&out, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace dbrepl
