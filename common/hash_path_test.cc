#include "common/hash_path.h"

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

// Vectors from the reference, §3.3 (verified against Swift 2.30.1).
TEST(HashPathTest, ReferenceVectors) {
  EXPECT_EQ(HashPath({"", "changeme"}, "a", "c"), "e8fbcd486a77117e2cd3398aa1f9485f");
  EXPECT_EQ(HashPath({"swiftbench-prefix", "swiftbench-suffix"}, "a", "c"), "997e529fcaaa9bc9c2622db450e7dd1b");
}

TEST(HashPathTest, AccountOnlyOmitsContainer) {
  // hash_path('a') hashes "/a" + suffix, not "/a/" + suffix.
  EXPECT_EQ(HashPath({"", "changeme"}, "a"), Md5Hex("/achangeme"));
  EXPECT_NE(HashPath({"", "changeme"}, "a"), Md5Hex("/a/changeme"));
}

TEST(HashPathTest, Md5KnownValue) { EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e"); }

}  // namespace
}  // namespace dbrepl
