// Swift's parsing of configuration values (swift.common.utils), so that a
// value means in dbrepl exactly what it means to Swift:
//
//   ConfigTrueValue("Yes") == true; ConfigTrueValue("flase") == false
//   ParsePythonInt(" 1_000 ") == 1000          // Python's int(str)
//   ParsePythonFloat("1e3") == 1000.0          // Python's float(str)
//   ConfigAutoIntValue("auto", 0) == 0         // config_auto_int_value
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_CONFIG_CONFIG_VALUES_H_
#define DBREPL_COMMON_CONFIG_CONFIG_VALUES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/ini_file.h"

namespace dbrepl {

// True for "true", "1", "yes", "on", "t", "y" in any case (Swift's
// TRUE_VALUES); false for everything else, including typos.
bool ConfigTrueValue(absl::string_view value);

// True if `value` is one of Swift's true values or a conventional false one
// ("false", "0", "no", "off", "f", "n", ""), so a caller can warn about
// values that Swift silently takes as false.
bool IsRecognisedBoolean(absl::string_view value);

// Python's int(value): surrounding whitespace, an optional sign, decimal
// digits with single underscores between them. INVALID_ARGUMENT otherwise
// or on overflow of int64.
absl::StatusOr<int64_t> ParsePythonInt(absl::string_view value);

// Python's float(value): surrounding whitespace, an optional sign, decimal
// digits (underscores between digits), an optional fraction and exponent,
// or inf/infinity/nan in any case. INVALID_ARGUMENT otherwise.
absl::StatusOr<double> ParsePythonFloat(absl::string_view value);

// Swift's config_auto_int_value: `default_value` for "auto" (any case),
// otherwise ParsePythonInt.
absl::StatusOr<int64_t> ConfigAutoIntValue(absl::string_view value, int64_t default_value);

// Typed options of one section, parsed as Swift parses them, with errors
// that name the option, its value and where it came from:
//   "invalid concurrency = 'x' in [container-replicator] of /etc/swift/c.conf:
//    'x' is not an integer"
// Absent options take the given default; a present but empty value is
// parsed like any other (int('') is an error in Swift too).
class OptionReader {
 public:
  explicit OptionReader(const ConfigSection& section) : section_(section) {}

  std::string String(absl::string_view key, absl::string_view default_value) const {
    return section_.Get(key, default_value);
  }
  // config_true_value; a value Swift would silently take as false (a typo
  // such as "flase") adds a warning to `warnings`.
  bool Bool(absl::string_view key, bool default_value, std::vector<std::string>* warnings) const;
  // An integer in [min, max].
  absl::StatusOr<int64_t> Int(absl::string_view key, int64_t default_value, int64_t min, int64_t max) const;
  // A finite number in [min, max].
  absl::StatusOr<double> Float(absl::string_view key, double default_value, double min, double max) const;
  // The error for `key` having `value`, for checks done by the caller.
  absl::Status Invalid(absl::string_view key, absl::string_view value, absl::string_view why) const;

  const ConfigSection& section() const { return section_; }

 private:
  const ConfigSection& section_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_CONFIG_VALUES_H_
