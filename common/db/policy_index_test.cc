// Swift's cmp_policy_info cases (its test_cmp_policy_info scenarios in
// test/unit/container/test_reconciler.py, restated as facts).
#include "common/db/policy_index.h"

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

PolicyFacts F(int64_t spi, const char* put, const char* del, const char* status, int64_t count = 0) {
  return PolicyFacts{spi, put, del, status, count};
}

constexpr const char* kZero = "0000000000.00000";

TEST(PolicyIndexTest, TheOldestStatusChangeWins) {
  PolicyFacts older = F(1, "0000001000.00000", kZero, "0000001000.00000");
  PolicyFacts newer = F(2, "0000001000.00000", kZero, "0000002000.00000");
  EXPECT_EQ(ComparePolicyInfo(older, newer), -1);
  EXPECT_EQ(ComparePolicyInfo(newer, older), 1);
  EXPECT_FALSE(IncorrectPolicyIndex(older, newer));
  EXPECT_TRUE(IncorrectPolicyIndex(newer, older));
}

TEST(PolicyIndexTest, EqualIndexesAreNeverIncorrect) {
  PolicyFacts a = F(1, "0000001000.00000", kZero, "0000002000.00000");
  PolicyFacts b = F(1, "0000001000.00000", kZero, "0000001000.00000");
  EXPECT_FALSE(IncorrectPolicyIndex(a, b));
  EXPECT_EQ(ComparePolicyInfo(a, a), 0);
}

TEST(PolicyIndexTest, ALiveReplicaBeatsADeletedOne) {
  // Deleted: delete after put and no objects. Even a newer status loses.
  PolicyFacts deleted = F(1, "0000001000.00000", "0000003000.00000", "0000001000.00000");
  PolicyFacts live = F(2, "0000001000.00000", kZero, "0000005000.00000");
  EXPECT_TRUE(IncorrectPolicyIndex(deleted, live));
  EXPECT_FALSE(IncorrectPolicyIndex(live, deleted));
  // Objects left: not deleted, so the oldest status decides.
  PolicyFacts not_empty = F(1, "0000001000.00000", "0000003000.00000", "0000001000.00000", 5);
  EXPECT_FALSE(IncorrectPolicyIndex(not_empty, live));
}

TEST(PolicyIndexTest, OfTwoDeletedTheLaterStatusWins) {
  PolicyFacts early = F(1, "0000001000.00000", "0000003000.00000", "0000003000.00000");
  PolicyFacts late = F(2, "0000001000.00000", "0000004000.00000", "0000004000.00000");
  EXPECT_TRUE(IncorrectPolicyIndex(early, late));
  EXPECT_FALSE(IncorrectPolicyIndex(late, early));
}

TEST(PolicyIndexTest, ARecreatedReplicaBeatsAnOlderOneThatWasNever) {
  PolicyFacts original = F(0, "0000001000.00000", kZero, "0000001000.00000");
  PolicyFacts recreated = F(1, "0000005000.00000", "0000004000.00000", "0000005000.00000");
  EXPECT_TRUE(IncorrectPolicyIndex(original, recreated));
  EXPECT_FALSE(IncorrectPolicyIndex(recreated, original));
}

TEST(PolicyIndexTest, OfTwoRecreatedTheOnePutAfterTheLatestDeleteWins) {
  PolicyFacts stale = F(0, "0000003000.00000", "0000002000.00000", "0000001000.00000");
  PolicyFacts fresh = F(1, "0000006000.00000", "0000005000.00000", "0000006000.00000");
  // stale was put before fresh's delete: it lost that delete.
  EXPECT_TRUE(IncorrectPolicyIndex(stale, fresh));
  EXPECT_FALSE(IncorrectPolicyIndex(fresh, stale));
  // Both put after both deletes: the oldest status change.
  PolicyFacts a = F(0, "0000007000.00000", "0000002000.00000", "0000007000.00000");
  PolicyFacts b = F(1, "0000008000.00000", "0000005000.00000", "0000008000.00000");
  EXPECT_FALSE(IncorrectPolicyIndex(a, b));
  EXPECT_TRUE(IncorrectPolicyIndex(b, a));
}

TEST(PolicyIndexTest, ADeleteTimestampOfZeroIsNotARecreation) {
  // put > delete, but delete is Timestamp(0): never deleted, so plain oldest.
  PolicyFacts a = F(0, "0000002000.00000", kZero, "0000002000.00000");
  PolicyFacts b = F(1, "0000001000.00000", "0", "0000001000.00000");
  EXPECT_TRUE(IncorrectPolicyIndex(a, b));
}

}  // namespace
}  // namespace dbrepl
