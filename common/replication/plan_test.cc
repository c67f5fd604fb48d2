// Swift's replication decisions as tables: given this, choose that.
#include "common/replication/plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::testing::ElementsAre;

RingNode Node(int id) {
  RingNode n;
  n.id = id;
  n.device = "d" + std::to_string(id);
  return n;
}

std::vector<int> Ids(const std::vector<RingNode>& nodes) {
  std::vector<int> ids;
  for (const RingNode& n : nodes) ids.push_back(n.id);
  return ids;
}

TEST(PushTargetsTest, APrimaryStartsWithTheNextPrimary) {
  std::vector<RingNode> primaries = {Node(4), Node(7), Node(9)};
  EXPECT_THAT(Ids(PushTargets(primaries, 4)), ElementsAre(7, 9));
  EXPECT_THAT(Ids(PushTargets(primaries, 7)), ElementsAre(9, 4));
  EXPECT_THAT(Ids(PushTargets(primaries, 9)), ElementsAre(4, 7));
}

TEST(PushTargetsTest, AHandoffPushesToEveryPrimaryInOrder) {
  EXPECT_THAT(Ids(PushTargets({Node(4), Node(7), Node(9)}, 2)), ElementsAre(4, 7, 9));
}

TEST(PushTargetsTest, ASingleReplicaRingKeepsItsNodeEvenIfItIsThisOne) {
  EXPECT_THAT(Ids(PushTargets({Node(4)}, 4)), ElementsAre(4));
  EXPECT_THAT(Ids(PushTargets({Node(4)}, 5)), ElementsAre(4));
}

TEST(UsableHandoffTest, NeverThisDatabasesOwnDevice) {
  EXPECT_FALSE(UsableHandoff(Node(3), 3, /*same_partition=*/true));
  EXPECT_TRUE(UsableHandoff(Node(3), 3, /*same_partition=*/false));  // Misplaced: another partition there.
  EXPECT_TRUE(UsableHandoff(Node(5), 3, true));
}

struct ModeCase {
  const char* name;
  SyncFacts facts;
  Mode mode;
  int64_t from;
};

class ChooseModeTest : public ::testing::TestWithParam<ModeCase> {};

TEST_P(ChooseModeTest, ChoosesAsSwift) {
  ModeChoice c = ChooseMode(GetParam().facts, /*per_diff=*/1000);
  EXPECT_EQ(c.mode, GetParam().mode);
  if (c.mode == Mode::kUsync) EXPECT_EQ(c.usync_from, GetParam().from);
}

//                     local max, hash, local point, remote point, remote max, hash
INSTANTIATE_TEST_SUITE_P(
    Table, ChooseModeTest,
    ::testing::Values(
        ModeCase{"PeerPointCoversEverything", {5000, "a", -1, 5000, 5000, "b"}, Mode::kNoChange, 0},
        ModeCase{"OurPointCoversEverything", {5000, "a", 5000, 10, 5000, "b"}, Mode::kNoChange, 0},
        ModeCase{"EmptyDatabase", {-1, "0", -1, -1, -1, "x"}, Mode::kNoChange, 0},
        ModeCase{"SameHashNoPoints", {5000, "a", -1, -1, 5000, "a"}, Mode::kHashmatch, 0},
        ModeCase{"InSyncBeatsHashmatch", {5000, "a", 5000, -1, 5000, "a"}, Mode::kNoChange, 0},
        ModeCase{"FarBehindLessThanHalfAndMoreThanPerDiff", {5000, "a", -1, -1, 2000, "b"}, Mode::kRsyncThenMerge,
                 0},
        ModeCase{"LessThanHalfButWithinPerDiff", {1500, "a", -1, -1, 600, "b"}, Mode::kUsync, -1},
        ModeCase{"MoreThanHalf", {5000, "a", -1, 100, 3000, "b"}, Mode::kUsync, 100},
        ModeCase{"UsyncFromTheHigherPoint", {5000, "a", 4000, 3000, 4900, "b"}, Mode::kUsync, 4000}),
    [](const ::testing::TestParamInfo<ModeCase>& p) { return p.param.name; });

TEST(RsyncThenMergeTimeoutTest, CountOver2000AtLeastNodeTimeout) {
  EXPECT_EQ(RsyncThenMergeTimeout(0, absl::Seconds(10)), absl::Seconds(10));
  EXPECT_EQ(RsyncThenMergeTimeout(100000, absl::Seconds(10)), absl::Seconds(50));
}

struct RemovalCase {
  const char* name;
  int64_t before, now;
  bool pending;
  std::vector<bool> pushes;
  int handoff_delete;
  bool remove;
};

class ChooseRemovalTest : public ::testing::TestWithParam<RemovalCase> {};

TEST_P(ChooseRemovalTest, RemovesOnlyWhenSafe) {
  const RemovalCase& c = GetParam();
  RemovalChoice r = ChooseRemoval(c.before, c.now, c.pending, c.pushes, c.handoff_delete);
  EXPECT_EQ(r.remove, c.remove) << r.reason;
  EXPECT_FALSE(r.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ChooseRemovalTest,
    ::testing::Values(RemovalCase{"AllPushedNothingNew", 10, 10, false, {true, true, true}, 0, true},
                      RemovalCase{"OnePushFailed", 10, 10, false, {true, false, true}, 0, false},
                      RemovalCase{"NoPushes", 10, 10, false, {}, 0, false},
                      RemovalCase{"RowsArrived", 10, 11, false, {true, true, true}, 0, false},
                      RemovalCase{"RowsPending", 10, 10, true, {true, true, true}, 0, false},
                      RemovalCase{"NegativeDelta", 10, 9, false, {true, true, true}, 0, false},
                      RemovalCase{"HandoffDeleteEnough", 10, 10, false, {true, false, true}, 2, true},
                      RemovalCase{"HandoffDeleteNotEnough", 10, 10, false, {true, false, false}, 2, false}),
    [](const ::testing::TestParamInfo<RemovalCase>& p) { return p.param.name; });

}  // namespace
}  // namespace dbrepl
