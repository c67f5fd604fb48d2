#include "common/python_float.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dbrepl {

std::string PythonFloatRepr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // std::to_chars without a precision gives the shortest round-tripping
  // digits, closest to the value: David Gay's mode 0, as Python uses.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), std::fabs(value), std::chars_format::scientific);
  const std::string sci(buf, result.ptr);  // "d[.ddd]e[+-]XX"
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string out = value < 0 ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const size_t int_len = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        absl::StrAppend(&out, digits, std::string(int_len - digits.size(), '0'), ".0");
      } else {
        absl::StrAppend(&out, digits.substr(0, int_len), ".", digits.substr(int_len));
      }
    } else {
      absl::StrAppend(&out, "0.", std::string(static_cast<size_t>(-exponent - 1), '0'), digits);
    }
    return out;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) absl::StrAppend(&out, ".", digits.substr(1));
  absl::StrAppend(&out, absl::StrFormat("e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent)));
  return out;
}

}  // namespace dbrepl
