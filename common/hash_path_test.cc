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

TEST(HashPathTest, PartitionKeyIsTheDigestsFirstFourBytes) {
  HashPathConfig cfg{"", "changeme"};
  Md5Digest d = HashPathRaw(cfg, "a", "c");
  EXPECT_EQ(PartitionKey(cfg, "a", "c"),
            (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | uint32_t{d[3]});
  EXPECT_EQ(PartitionKey(cfg, "a"), PartitionKey(cfg, "a", ""));
  EXPECT_NE(PartitionKey(cfg, "a"), PartitionKey(cfg, "a", "c"));
}

TEST(HashPathTest, HashPathCheckTellsSecretsApart) {
  EXPECT_EQ(HashPathCheck({"p", "s"}), HashPathCheck({"p", "s"}));
  EXPECT_EQ(HashPathCheck({"p", "s"}).size(), 16u);
  EXPECT_NE(HashPathCheck({"p", "s"}), HashPathCheck({"p", "t"}));
  EXPECT_NE(HashPathCheck({"p", "s"}), HashPathCheck({"q", "s"}));
}

}  // namespace
}  // namespace dbrepl
