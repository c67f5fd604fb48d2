// Python's repr(float), the way Swift's numbers reach disk: reclaim ages in
// SQL, floats in metadata, ring and recon JSON.
//
//   PythonFloatRepr(5.0) == "5.0"; PythonFloatRepr(1e16) == "1e+16"
//   PythonFloatRepr(1794737777.2537541) == "1794737777.2537541"
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_PYTHON_FLOAT_H_
#define DBREPL_COMMON_PYTHON_FLOAT_H_

#include <string>

namespace dbrepl {

// The shortest digits that read back as `value` (Python's float_repr_style
// "short", the closest such string), laid out as Python does: fixed notation
// while the decimal exponent is in [-4, 16), always with a fractional part
// ("5.0"); otherwise "d.ddde+XX" with at least two exponent digits ("1e-05").
// Non-finite values are "nan", "inf" and "-inf" (json.dumps writes those as
// NaN and Infinity instead; see python_json.h).
std::string PythonFloatRepr(double value);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_PYTHON_FLOAT_H_
