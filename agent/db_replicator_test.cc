// DbReplicator against a fake peer and a fake rsync: Swift's per-database
// decisions and the hazards around them, without processes.
#include "agent/testing/replicator_fixture.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::agent::testing::AddShardRange;
using ::dbrepl::agent::testing::Answer;
using ::dbrepl::agent::testing::DbReplicatorTest;
using ::dbrepl::agent::testing::FileContents;
using ::dbrepl::agent::testing::PartitionReplicatorTest;
using ::testing::ElementsAre;

TEST_F(DbReplicatorTest, InSyncPeersCostOneSyncEach) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  DbOutcome o = Replicate(MakeDb(me, "c", 5), part, me);
  EXPECT_TRUE(o.success);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(stats_.Snapshot().no_change, 2);
  EXPECT_EQ(stats_.Snapshot().success, 2);
}

TEST_F(DbReplicatorTest, ModesFollowWhatThePeerSays) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 3000);
  // First target: lacks it; second: far behind.
  std::string first = absl::StrCat("d", Primaries(part)[1]);
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    if (ref.device() == first) return DbNotFoundError("no db");
    return Answer(info, -1, 100, "other");
  };
  DbOutcome o = Replicate(path, part, me);
  EXPECT_TRUE(o.success);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kRsync, PeerResult::kRemoteMerge));
  EXPECT_EQ(peers_.calls[first].complete_rsync, 1);
  EXPECT_EQ(peers_.calls[absl::StrCat("d", Primaries(part)[2])].rsync_then_merge, 1);
  // A peer 10 rows behind gets the rows after its point, then our syncs.
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) {
    return Answer(info, info.max_row - 10, info.max_row - 10, "other", "id-" + ref.device());
  };
  peers_.rows_streamed = 0;
  o = Replicate(path, part, me);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kDiff, PeerResult::kDiff));
  EXPECT_EQ(peers_.rows_streamed, 20);
  EXPECT_EQ(peers_.calls[first].merge_syncs, 1);
}

TEST_F(DbReplicatorTest, AnUnavailablePeersStandInIsNeverThisDatabasesOwnDevice) {
  // Four devices, three replicas: the one handoff of the partition is this
  // device. With a primary unmounted there is no stand-in, so the handoff
  // copy must stay.
  int64_t part = Partition("c");
  int me = Handoff(part);
  std::string path = MakeDb(me, "c", 5, part);
  std::string down = absl::StrCat("d", Primaries(part)[0]);
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    if (ref.device() == down) return DeviceUnavailableError("not mounted");
    return Answer(info, info.max_row, info.max_row, info.hash);
  };
  DbOutcome o = Replicate(path, part, me);
  EXPECT_EQ(peers_.calls[absl::StrCat("d", me)].sync, 0) << "synced with itself";
  EXPECT_EQ(o.local_action, LocalAction::kKept);
  EXPECT_TRUE(PathExists(path));
  EXPECT_FALSE(o.success);
}

TEST_F(DbReplicatorTest, AHandoffIsRemovedOnlyWhenEveryPushSucceededAndNothingArrived) {
  int64_t part = Partition("c");
  int me = Handoff(part);
  std::string path = MakeDb(me, "c", 5, part);
  // Swift's server appends to .pending while the pushes run.
  int syncs = 0;
  peers_.on_sync = [&](const v1::DbRef&, const ReplicationInfo& info) {
    if (++syncs == 3) {
      auto b = DatabaseBroker::Open(DbType::kContainer, path);
      ObjectRecord o;
      o.name = "late";
      o.created_at = "1800000000.00000";
      EXPECT_OK((*b)->PutObject(o, /*use_pending=*/true));
    }
    return Answer(info, info.max_row, info.max_row, info.hash);
  };
  DbOutcome o = Replicate(path, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kKept);
  EXPECT_TRUE(PathExists(path));
  // The next pass pushes the late row and removes the copy.
  o = Replicate(path, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kRemoved);
  EXPECT_FALSE(PathExists(path));
}

TEST_F(DbReplicatorTest, APeerAtCapacityIsRetriedLater) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  peers_.on_sync = [](const v1::DbRef&, const ReplicationInfo&) -> absl::StatusOr<v1::SyncResponse> {
    return PeerAtCapacityError("busy");
  };
  DbOutcome o = Replicate(MakeDb(me, "c", 5), part, me);
  EXPECT_TRUE(o.retry_later);
  EXPECT_FALSE(o.success);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kPeerBusy, PeerResult::kPeerBusy));
}

TEST_F(DbReplicatorTest, AFileWrittenDuringItsCopyIsCopiedAgainWithWritersLockedOut) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 5);
  peers_.on_sync = [](const v1::DbRef&, const ReplicationInfo&) -> absl::StatusOr<v1::SyncResponse> {
    return DbNotFoundError("no db");
  };
  Replicate(path, part, me);
  EXPECT_THAT(rsync_.pushes, ElementsAre(true, true)) << "a quiet file is copied once per peer";
  rsync_.pushes.clear();
  rsync_.during_first_push = [&] {
    auto b = DatabaseBroker::Open(DbType::kContainer, path);
    ObjectRecord o;
    o.name = "during";
    o.created_at = "1800000000.00000";
    EXPECT_OK((*b)->PutObject(o));
  };
  Replicate(path, part, me);
  EXPECT_THAT(rsync_.pushes, ElementsAre(true, false, true));
}

TEST_F(DbReplicatorTest, ADatabaseInFlightIsNotReplicatedTwice) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 5);
  auto held = locks_.TryLock(absl::StrCat(options_.devices, "/d", me), HashPath(options_.hash_config, "a", "c"));
  ASSERT_OK(held);
  DbOutcome o = Replicate(path, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kBusy);
  EXPECT_EQ(peers_.calls.size(), 0u);
}

TEST_F(DbReplicatorTest, ShardedContainersAreLeftAloneAndCounted) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  // Sharded here: the epoch file alone. No peer is asked anything.
  const std::string base = MakeDb(me, "c", 5);
  const std::string epoch = Dirname(base) + "/" + HashOf(base) + "_0000001234.00000.db";
  ASSERT_EQ(rename(base.c_str(), epoch.c_str()), 0);
  const std::string before = FileContents(epoch);
  DbOutcome o = Replicate(epoch, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kSharded);
  EXPECT_TRUE(o.peers.empty());
  EXPECT_TRUE(peers_.calls.empty());
  EXPECT_EQ(FileContents(epoch), before);
  EXPECT_EQ(stats_.Snapshot().skipped_sharded, 1);
  EXPECT_EQ(stats_.Snapshot().failure, 0);

  // Sharding here: "<hash>.db" beside the epoch file.
  const std::string again = MakeDb(me, "c", 5);
  o = Replicate(again, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kSharded);
  EXPECT_TRUE(peers_.calls.empty());
  ASSERT_EQ(unlink(epoch.c_str()), 0);

  // Shard ranges but no epoch file yet: the sharder has begun.
  AddShardRange(again);
  o = Replicate(again, part, me);
  EXPECT_EQ(o.local_action, LocalAction::kSharded);
  EXPECT_TRUE(peers_.calls.empty());
  EXPECT_EQ(stats_.Snapshot().skipped_sharded, 3);
}

TEST_F(DbReplicatorTest, APeerWhoseCopyIsShardedGetsNothingShipped) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 50);
  const std::string sharded_dev = absl::StrCat("d", Primaries(part)[1]);
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    if (ref.device() == sharded_dev) return DbShardedError("has a sharding epoch file");
    return Answer(info, info.max_row, info.max_row, info.hash);
  };
  DbOutcome o = Replicate(path, part, me);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kSharded, PeerResult::kNoChange));
  EXPECT_FALSE(o.success) << "not replicated there: a handoff must not count it as a copy";
  EXPECT_EQ(peers_.calls[sharded_dev].complete_rsync, 0);
  EXPECT_EQ(peers_.calls[sharded_dev].rsync_then_merge, 0);
  EXPECT_EQ(peers_.calls[sharded_dev].merge_items, 0);
  EXPECT_EQ(stats_.Snapshot().skipped_sharded, 1);
}

TEST_F(DbReplicatorTest, ThePeersBetterStoragePolicyClaimIsTaken) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 5);
  std::vector<int> seen_policies;
  auto answer = [&](const ReplicationInfo& info, const char* status) {
    seen_policies.push_back(static_cast<int>(info.storage_policy_index));
    v1::SyncResponse r = Answer(info, info.max_row, info.max_row, info.hash);
    r.mutable_info()->set_storage_policy_index(3);
    r.mutable_info()->set_status_changed_at(status);
    return r;
  };
  // The peers' status changed later than ours: ours is the older, it stays.
  peers_.on_sync = [&](const v1::DbRef&, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    return answer(info, "9999999999.00000");
  };
  Replicate(path, part, me);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, broker->GetReplicationInfo());
  EXPECT_EQ(info.storage_policy_index, 0);
  // Older than ours: taken from the first peer, and offered to the second.
  peers_.on_sync = [&](const v1::DbRef&, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    return answer(info, "0000000000.10000");
  };
  seen_policies.clear();
  Replicate(path, part, me);
  ASSERT_OK_AND_ASSIGN(info, broker->GetReplicationInfo());
  EXPECT_EQ(info.storage_policy_index, 3);
  EXPECT_THAT(seen_policies, ElementsAre(0, 3));
}

TEST_F(DbReplicatorTest, AnOlderPeerGetsItsSyncsByMergeSyncs) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 30);
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) {
    return Answer(info, info.max_row - 10, info.max_row - 10, "other", "id-" + ref.device());
  };
  // The syncs ride on the stream: no MergeSyncs call (the fake counts the
  // in-stream merge as one).
  DbOutcome o = Replicate(path, part, me);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kDiff, PeerResult::kDiff));
  const std::string first = absl::StrCat("d", Primaries(part)[1]);
  EXPECT_EQ(peers_.calls[first].merge_syncs, 1);
  EXPECT_TRUE(o.success);
  // A peer that predates it: MergeSyncs after the stream (a fresh database,
  // the first one is in sync now).
  peers_.merge_syncs_in_stream = false;
  peers_.calls.clear();
  const int64_t part2 = Partition("c-again");
  const int me2 = Primaries(part2)[0];
  std::string other = MakeDb(me2, "c-again", 30);
  o = Replicate(other, part2, me2);
  EXPECT_THAT(Results(o), ElementsAre(PeerResult::kDiff, PeerResult::kDiff));
  EXPECT_EQ(peers_.calls[absl::StrCat("d", Primaries(part2)[1])].merge_syncs, 1);
  EXPECT_TRUE(o.success);
}

}  // namespace
}  // namespace dbrepl::agent
