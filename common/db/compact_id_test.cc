#include "common/db/compact_id.h"

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(CompactIdTest, SwiftsIdFormsRoundTrip) {
  IdInterner interner;
  for (const std::string id : {"e65dc47b-04b1-48fd-a907-9ea7771811fc", "e65dc47b-04b1-48fd-a907-9ea7771811fc-sdb1",
                               "00000000-0000-0000-0000-000000000000-", "e65dc47b-04b1-48fd-a907-9ea7771811fc-d2"}) {
    CompactId c;
    ASSERT_TRUE(interner.Encode(id, &c)) << id;
    EXPECT_TRUE(c.encoded());
    EXPECT_EQ(interner.Decode(c), id);
    CompactId found;
    ASSERT_TRUE(interner.Find(id, &found));
    EXPECT_TRUE(found == c);
  }
}

TEST(CompactIdTest, OtherFormsAreNotEncoded) {
  IdInterner interner;
  CompactId c;
  for (const std::string id : {"sender", "", "E65DC47B-04B1-48FD-A907-9EA7771811FC",  // Would not round-trip.
                               "e65dc47b04b148fda9079ea7771811fc0000", "e65dc47b-04b1-48fd-a907-9ea7771811f"}) {
    EXPECT_FALSE(interner.Encode(id, &c)) << id;
  }
  EXPECT_FALSE(interner.Find("e65dc47b-04b1-48fd-a907-9ea7771811fc-sdz", &c)) << "a suffix never interned";
}

TEST(CompactIdTest, SuffixesAreSharedAndIdsDiffer) {
  IdInterner interner;
  CompactId a, b;
  ASSERT_TRUE(interner.Encode("e65dc47b-04b1-48fd-a907-9ea7771811fc-sdb1", &a));
  ASSERT_TRUE(interner.Encode("f65dc47b-04b1-48fd-a907-9ea7771811fc-sdb1", &b));
  EXPECT_EQ(a.suffix, b.suffix);
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace dbrepl
