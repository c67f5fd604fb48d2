#include "common/python_float.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(PythonFloatReprTest, MatchesPython) {
  // Expected values are Python 3's repr(float(x)).
  EXPECT_EQ(PythonFloatRepr(100), "100.0");
  EXPECT_EQ(PythonFloatRepr(5.0), "5.0");
  EXPECT_EQ(PythonFloatRepr(0), "0.0");
  EXPECT_EQ(PythonFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PythonFloatRepr(1.5), "1.5");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(-2.25), "-2.25");
  EXPECT_EQ(PythonFloatRepr(-2.5), "-2.5");
  EXPECT_EQ(PythonFloatRepr(123.456), "123.456");
  EXPECT_EQ(PythonFloatRepr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(1.25e-7), "1.25e-07");
  EXPECT_EQ(PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(1.5e16), "1.5e+16");
  EXPECT_EQ(PythonFloatRepr(123456789.125), "123456789.125");
  EXPECT_EQ(PythonFloatRepr(1700000000.5), "1700000000.5");
  EXPECT_EQ(PythonFloatRepr(1794737777.2537541), "1794737777.2537541");
  EXPECT_EQ(PythonFloatRepr(1e300), "1e+300");
  EXPECT_EQ(PythonFloatRepr(5e-324), "5e-324");
  EXPECT_EQ(PythonFloatRepr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(PythonFloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(PythonFloatRepr(std::nan("")), "nan");
}

}  // namespace
}  // namespace dbrepl
