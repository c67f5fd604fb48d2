#include "common/config/config_values.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dbrepl {
namespace {

absl::Status NotA(absl::string_view what, absl::string_view value) {
  return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not ", what));
}

// Consumes digits with single underscores between them ("1_000"); returns
// them without underscores, or "" if there are none or an underscore is
// misplaced (leaving `s` where the bad part starts).
std::string TakeDigits(absl::string_view* s, bool* ok) {
  std::string out;
  *ok = true;
  size_t i = 0;
  while (i < s->size()) {
    const char c = (*s)[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      out.push_back(c);
      ++i;
    } else if (c == '_' && !out.empty() && i + 1 < s->size() &&
               absl::ascii_isdigit(static_cast<unsigned char>((*s)[i + 1]))) {
      ++i;
    } else {
      break;
    }
  }
  if (i < s->size() && (*s)[i] == '_') *ok = false;
  s->remove_prefix(i);
  return out;
}

}  // namespace

bool ConfigTrueValue(absl::string_view value) {
  const std::string v = absl::AsciiStrToLower(value);
  return v == "true" || v == "1" || v == "yes" || v == "on" || v == "t" || v == "y";
}

bool IsRecognisedBoolean(absl::string_view value) {
  const std::string v = absl::AsciiStrToLower(value);
  return ConfigTrueValue(v) || v == "false" || v == "0" || v == "no" || v == "off" || v == "f" || v == "n" ||
         v.empty();
}

absl::StatusOr<int64_t> ParsePythonInt(absl::string_view value) {
  absl::string_view s = absl::StripAsciiWhitespace(value);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  bool ok;
  const std::string digits = TakeDigits(&s, &ok);
  if (digits.empty() || !ok || !s.empty()) return NotA("an integer", value);
  uint64_t magnitude = 0;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - d) / 10) return NotA("an integer in range", value);
    magnitude = magnitude * 10 + d;
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return NotA("an integer in range", value);
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

absl::StatusOr<double> ParsePythonFloat(absl::string_view value) {
  absl::string_view s = absl::StripAsciiWhitespace(value);
  std::string clean;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    clean.push_back(s.front());
    s.remove_prefix(1);
  }
  const std::string lower = absl::AsciiStrToLower(s);
  if (lower == "inf" || lower == "infinity" || lower == "nan") {
    return std::strtod((clean + lower).c_str(), nullptr);
  }
  bool ok;
  const std::string whole = TakeDigits(&s, &ok);
  if (!ok) return NotA("a number", value);
  std::string fraction;
  bool has_point = false;
  if (!s.empty() && s.front() == '.') {
    has_point = true;
    s.remove_prefix(1);
    fraction = TakeDigits(&s, &ok);
    if (!ok) return NotA("a number", value);
  }
  if (whole.empty() && fraction.empty()) return NotA("a number", value);
  absl::StrAppend(&clean, whole, has_point ? "." : "", fraction);
  if (!s.empty() && (s.front() == 'e' || s.front() == 'E')) {
    s.remove_prefix(1);
    clean.push_back('e');
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
      clean.push_back(s.front());
      s.remove_prefix(1);
    }
    const std::string exponent = TakeDigits(&s, &ok);
    if (exponent.empty() || !ok) return NotA("a number", value);
    clean += exponent;
  }
  if (!s.empty()) return NotA("a number", value);
  errno = 0;
  // Overflow gives +-inf, as Python's float("1e999") does.
  return std::strtod(clean.c_str(), nullptr);
}

absl::StatusOr<int64_t> ConfigAutoIntValue(absl::string_view value, int64_t default_value) {
  if (absl::AsciiStrToLower(value) == "auto") return default_value;
  absl::StatusOr<int64_t> v = ParsePythonInt(value);
  if (!v.ok()) return NotA("an integer or \"auto\"", value);
  return v;
}

bool OptionReader::Bool(absl::string_view key, bool default_value, std::vector<std::string>* warnings) const {
  const std::string* v = section_.Find(key);
  if (v == nullptr) return default_value;
  if (!IsRecognisedBoolean(*v) && warnings != nullptr) {
    warnings->push_back(absl::StrCat(key, " = '", *v, "' in ", section_.Where(),
                                     " is not a recognised boolean; taken as false, as Swift does"));
  }
  return ConfigTrueValue(*v);
}

absl::Status OptionReader::Invalid(absl::string_view key, absl::string_view value, absl::string_view why) const {
  if (section_.command_line_keys.count(std::string(key)) > 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --", key, "='", value, "': ", why));
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid ", key, " = '", value, "' in ", section_.Where(), ": ", why));
}

absl::StatusOr<int64_t> OptionReader::Int(absl::string_view key, int64_t default_value, int64_t min,
                                          int64_t max) const {
  const std::string* v = section_.Find(key);
  if (v == nullptr) return default_value;
  absl::StatusOr<int64_t> parsed = ParsePythonInt(*v);
  if (!parsed.ok()) return Invalid(key, *v, parsed.status().message());
  if (*parsed < min || *parsed > max) {
    return Invalid(key, *v, absl::StrCat("must be between ", min, " and ", max));
  }
  return parsed;
}

absl::StatusOr<double> OptionReader::Float(absl::string_view key, double default_value, double min,
                                           double max) const {
  const std::string* v = section_.Find(key);
  if (v == nullptr) return default_value;
  absl::StatusOr<double> parsed = ParsePythonFloat(*v);
  if (!parsed.ok()) return Invalid(key, *v, parsed.status().message());
  if (!std::isfinite(*parsed) || *parsed < min || *parsed > max) {
    return Invalid(key, *v, absl::StrCat("must be a number between ", min, " and ", max));
  }
  return parsed;
}

}  // namespace dbrepl
