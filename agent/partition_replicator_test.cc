// PartitionReplicator against a fake peer and a fake rsync: the partition
// handshake, whole files in batches, and what stays off the fast path.
#include <fstream>

#include "agent/testing/replicator_fixture.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"

namespace dbrepl::agent {
namespace {

using ::dbrepl::agent::testing::AddShardRange;
using ::dbrepl::agent::testing::Answer;
using ::dbrepl::agent::testing::DbReplicatorTest;
using ::dbrepl::agent::testing::FileContents;
using ::dbrepl::agent::testing::PartitionReplicatorTest;
using ::testing::ElementsAre;

TEST_F(PartitionReplicatorTest, InSyncDatabasesCostOneCallPerPeerAndNoSqliteOnceCached) {
  // Two databases in one partition, on its first primary.
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b = MakeDbIn(part, me, 3);
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a, b}, part, me);
  ASSERT_EQ(out.size(), 2u);
  for (const DbOutcome& o : out) {
    EXPECT_TRUE(o.success);
    EXPECT_THAT(Results(o), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  }
  EXPECT_EQ(peers_.sync_partition_calls, 2);  // One per peer, both databases in it.
  EXPECT_EQ(SyncCalls(), 0);
  EXPECT_EQ(stats_.Snapshot().no_change, 4);
  EXPECT_EQ(stats_.Snapshot().success, 4);
  EXPECT_EQ(stats_.Snapshot().attempted, 2);
  EXPECT_EQ(cache_.size(), 2u);
  // Unchanged: the next pass reads nothing but two stats a database.
  Pass({a, b}, part, me);
  EXPECT_EQ(SyncCalls(), 0);
  EXPECT_EQ(stats_.Snapshot().no_change, 8);
}

TEST_F(PartitionReplicatorTest, WhatPeersLackIsShippedInOneBatchPerPeerAndWhatDiffersGoesBySync) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b = MakeDbIn(part, me, 3);
  const std::string b_hash = HashOf(b);
  std::string c = MakeDbIn(part, me, 2, "x", 1000);
  const std::string c_hash = HashOf(c);
  peers_.on_sync_partition = [&](const v1::SyncPartitionRequest& req) {
    v1::SyncPartitionResponse resp;
    for (const v1::DbDigest& d : req.dbs()) {
      v1::PeerDbState* s = resp.add_dbs();
      if (d.hash() == b_hash) {
        s->set_presence(v1::PeerDbState::MISSING);
        continue;
      }
      if (d.hash() == c_hash) {  // Present, with other timestamps: Sync merges them.
        s->set_presence(v1::PeerDbState::PRESENT);
        s->set_id("id-" + req.device());
        s->set_state_equal(false);
        continue;
      }
      s->set_presence(v1::PeerDbState::PRESENT);
      s->set_id("id-" + req.device());
      s->set_point(d.max_row());
      s->set_rows_hash_equal(true);
      s->set_state_equal(true);
    }
    return resp;
  };
  std::vector<DbOutcome> out = Pass({a, b, c}, part, me);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_THAT(Results(out[1]), ElementsAre(PeerResult::kRsync, PeerResult::kRsync));
  EXPECT_TRUE(out[1].success);
  EXPECT_THAT(rsync_.batches, ElementsAre(1u, 1u)) << "one rsync run per peer";
  EXPECT_EQ(peers_.batch_installs, 2);
  EXPECT_EQ(SyncCalls(), 2);  // Only the database that differs, once per peer.
  EXPECT_EQ(stats_.Snapshot().rsync, 2);
}

TEST_F(PartitionReplicatorTest, AChunkOfPartitionsShipsOneBatchPerPeerDevice) {
  // Two partitions this device is a primary of, each with a database no
  // peer has: their targets overlap in at least one device (3 replicas on 4
  // devices), and a device both lack gets both files in one run.
  int me = -1;
  std::vector<int64_t> parts;
  for (int dev = 0; dev < 4 && parts.size() < 2; ++dev) {
    parts.clear();
    for (int64_t p = 0; p < 4; ++p) {
      std::vector<int> prim = Primaries(p);
      if (std::find(prim.begin(), prim.end(), dev) != prim.end()) parts.push_back(p);
    }
    me = dev;
  }
  ASSERT_GE(parts.size(), 2u);
  parts.resize(2);
  std::vector<WalkItem> items;
  std::map<std::string, size_t> want;  // Peer device -> files it should get.
  for (int64_t p : parts) {
    std::string name;
    for (int k = 0; name.empty(); ++k) {
      if (Partition(absl::StrCat("m", k)) == p) name = absl::StrCat("m", k);
    }
    items.push_back(WalkItem{p, MakeDb(me, name, 4, p), me, absl::StrCat("d", me)});
    for (int id : Primaries(p)) {
      if (id != me) ++want[absl::StrCat("d", id)];
    }
  }
  peers_.on_sync_partition = [](const v1::SyncPartitionRequest& req) {
    v1::SyncPartitionResponse resp;
    for (int k = 0; k < req.dbs_size(); ++k) resp.add_dbs()->set_presence(v1::PeerDbState::MISSING);
    return resp;
  };
  std::vector<DbOutcome> out = Pass(items);
  for (const DbOutcome& o : out) {
    EXPECT_TRUE(o.success);
    EXPECT_THAT(Results(o), ElementsAre(PeerResult::kRsync, PeerResult::kRsync));
  }
  std::vector<size_t> want_sizes;
  for (auto& [dev, n] : want) want_sizes.push_back(n);
  EXPECT_THAT(rsync_.batches, ::testing::UnorderedElementsAreArray(want_sizes));
  EXPECT_EQ(peers_.batch_installs, static_cast<int>(want.size()));
  EXPECT_LT(want.size(), 4u) << "the two partitions' targets overlap";
  EXPECT_EQ(stats_.Snapshot().rsync, 4);
  // The handshake too: one SyncPartitions per peer device, carrying every
  // partition of the chunk with a replica there.
  std::map<std::string, size_t> asked;
  for (auto& [dev, partitions] : peers_.sync_partitions_calls) {
    EXPECT_EQ(asked.count(dev), 0u) << dev << " asked twice";
    asked[dev] = partitions;
  }
  EXPECT_EQ(asked, want);
  EXPECT_EQ(peers_.sync_partition_calls, 4);  // The fake answers partition by partition.
}

TEST_F(PartitionReplicatorTest, AHashMatchIsRecordedSoTheNextPassIsNoChange) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  peer_points_ = false;  // The peers hold the same rows but no point for us.
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a}, part, me);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kHashmatch, PeerResult::kHashmatch));
  out = Pass({a}, part, me);  // Our outgoing points now cover max_row.
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(SyncCalls(), 0);
}

TEST_F(PartitionReplicatorTest, AnUnreachablePeerSendsEveryDatabaseSwiftsWay) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  peers_.on_sync_partition = [](const v1::SyncPartitionRequest&) -> absl::StatusOr<v1::SyncPartitionResponse> {
    return DeviceUnavailableError("not mounted");
  };
  std::vector<DbOutcome> out = Pass({a}, part, me);
  EXPECT_EQ(SyncCalls(), 2);  // Both peers through Sync (the fake answers in sync).
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
}

TEST_F(PartitionReplicatorTest, AHandoffCopyIsNeverOnTheFastPath) {
  int64_t part = Partition("c");
  int me = Handoff(part);
  std::string a = MakeDb(me, "c", 5, part);
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a}, part, me);
  EXPECT_EQ(peers_.sync_partition_calls, 0);
  EXPECT_EQ(out[0].local_action, LocalAction::kRemoved);
}

TEST_F(PartitionReplicatorTest, ACorruptDatabaseFoundByTheStateReadIsCountedAsQuarantined) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b = MakeDbIn(part, me, 3);
  { std::ofstream(b, std::ios::trunc | std::ios::binary) << std::string(4096, 'x'); }
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a, b}, part, me);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(LocalActionName(out[1].local_action), "quarantined");
  EXPECT_FALSE(out[1].success);
  EXPECT_FALSE(PathExists(b));
  EXPECT_EQ(stats_.Snapshot().quarantined, 1);
  EXPECT_EQ(stats_.Snapshot().attempted, 2);
  EXPECT_EQ(stats_.Snapshot().failure, 3) << "every primary of the partition, as Swift counts it";
  EXPECT_EQ(SyncCalls(), 0);
}

TEST_F(PartitionReplicatorTest, AShardedContainerStaysOffTheFastPath) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string plain = MakeDb(me, "c", 5, part);
  std::string ranged = MakeDbIn(part, me, 3);
  AddShardRange(ranged);
  PeersInSync();
  int digests = 0;
  auto in_sync = peers_.on_sync_partition;
  peers_.on_sync_partition = [&](const v1::SyncPartitionRequest& req) {
    digests += req.dbs_size();
    return in_sync(req);
  };
  std::vector<DbOutcome> out = Pass({plain, ranged}, part, me);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(out[1].local_action, LocalAction::kSharded);
  EXPECT_EQ(digests, 2) << "only the unsharded database, once per peer";
  EXPECT_EQ(SyncCalls(), 0);
  EXPECT_EQ(stats_.Snapshot().skipped_sharded, 1);
}

TEST_F(PartitionReplicatorTest, RowsAPeerLacksAreStreamedWithoutAPerDatabaseSync) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 30, part);
  // Both peers: same timestamps and metadata, 10 rows behind, their points
  // for us where they stopped; one has far fewer (rsync_then_merge: Swift's
  // per-database path).
  const std::string far = absl::StrCat("d", Primaries(part)[2]);
  PeersBehind(10, {{far, 25}});
  peers_.on_sync = [&](const v1::DbRef& ref, const ReplicationInfo& info) -> absl::StatusOr<v1::SyncResponse> {
    return Answer(info, info.max_row - 25, info.max_row - 25, "other", "id-" + ref.device());
  };
  options_.per_diff = 5;
  std::vector<DbOutcome> out = Pass({path}, part, me);
  ASSERT_EQ(out.size(), 1u);
  // The far one went Swift's way (a Sync, then rsync_then_merge) for the whole
  // database; so the near one took the per-database path as well.
  EXPECT_EQ(SyncCalls(), 2);

  // Both near: streamed from the handshake alone.
  peers_.calls.clear();
  peers_.rows_streamed = 0;
  const std::string near = absl::StrCat("d", Primaries(part)[1]);
  PeersBehind(10);
  out = Pass({path}, part, me);
  EXPECT_EQ(SyncCalls(), 0);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kDiff, PeerResult::kDiff));
  EXPECT_TRUE(out[0].success);
  EXPECT_EQ(peers_.rows_streamed, 20);
  EXPECT_EQ(peers_.calls[near].merge_items, 1);
  EXPECT_EQ(peers_.calls[near].merge_syncs, 1);
  // The peer's point for us, committed with the rows, is the record: our
  // file is not written (Swift would copy the point into its outgoing table),
  // so its cached state stays current.
  EXPECT_EQ(peers_.calls[near].merge_items_acked_point, 30);
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK_AND_ASSIGN(int64_t point, broker->GetSync("id-" + near, /*incoming=*/false));
  EXPECT_EQ(point, -1);
}

TEST_F(PartitionReplicatorTest, ADatabaseReplacedAfterTheHandshakeIsNotStreamedUnderItsOldId) {
  // Between the handshake's read and the usync, the database is replaced (a
  // new file, a new id, at the same path): its identity changed, its id is
  // read again, and nothing is sent in the old one's name.
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 30, part);
  PeersBehind(10);
  auto answer = peers_.on_sync_partition;
  bool replaced = false;
  peers_.on_sync_partition = [&](const v1::SyncPartitionRequest& req) {
    if (!replaced) {
      replaced = true;
      EXPECT_EQ(unlink(path.c_str()), 0);
      MakeDb(me, "c", 40, part);
    }
    return answer(req);
  };
  std::vector<DbOutcome> out = Pass({path}, part, me);
  EXPECT_FALSE(out[0].success);
  EXPECT_EQ(peers_.rows_streamed, 0);
  for (const NodeOutcome& n : out[0].peers) EXPECT_THAT(n.detail, ::testing::HasSubstr("replaced"));
}

// The node's own peer, reading its databases through a state cache of its
// own (as dbrepl-peer's ReadStates does), with the cluster's secrets.
class LocalPeerTest : public PartitionReplicatorTest {
 protected:
  void SetUp() override {
    PartitionReplicatorTest::SetUp();
    peers_.on_read_states = [this](const PeerAddress& peer, const v1::ReadStatesRequest& req)
        -> absl::StatusOr<v1::ReadStatesResponse> {
      addresses_.push_back(peer.ToString());
      EXPECT_EQ(req.hash_path_check(), HashPathCheck(options_.hash_config));
      v1::ReadStatesResponse resp;
      for (const v1::ReadStatesRequest::Db& d : req.dbs()) {
        v1::LocalDbState* out = resp.add_dbs();
        const std::string db_file = DbFilePath(options_.devices, req.device(), DbType::kContainer, d.partition(), d.hash());
        absl::StatusOr<StateCache::Result> r = peer_cache_.Read(
            DbType::kContainer, db_file, BrokerOptions(), nullptr,
            [this](const ReplicationInfo& info) { return PartitionKey(options_.hash_config, info.account, info.container); });
        if (!r.ok() || !r->cacheable) {
          out->set_code(static_cast<int>(absl::StatusCode::kUnavailable));
          continue;
        }
        ToProto(r->identity, out->mutable_identity());
        ToProto(r->state, out);
        if (edit_) edit_(d.hash(), out);
      }
      return resp;
    };
  }
  StateCache peer_cache_;
  std::vector<std::string> addresses_;
  std::function<void(const std::string& hash, v1::LocalDbState*)> edit_;
};

TEST_F(LocalPeerTest, StatesComeFromTheNodesPeerSoTheNodeReadsEachDatabaseOnce) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b = MakeDbIn(part, me, 3);
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a, b}, part, me);
  for (const DbOutcome& o : out) EXPECT_THAT(Results(o), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(peers_.read_states_calls, 1) << "one call for the chunk";
  EXPECT_THAT(addresses_, ElementsAre(absl::StrCat("127.0.0.", me + 1, ":6201")));
  EXPECT_EQ(peer_cache_.sqlite_reads(), 2u);
  EXPECT_EQ(cache_.sqlite_reads(), 0u) << "the agent opened no database";
  EXPECT_EQ(cache_.size(), 2u);
  // Cached now: the next pass asks nobody.
  Pass({a, b}, part, me);
  EXPECT_EQ(peers_.read_states_calls, 1);
  EXPECT_EQ(cache_.sqlite_reads(), 0u);
}

TEST_F(LocalPeerTest, WhatThePeerCannotSayOrSaysOfAnotherFileIsReadFromSqlite) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b = MakeDbIn(part, me, 3);
  std::string c = MakeDbIn(part, me, 2, "y");
  const std::string a_hash = HashOf(a), b_hash = HashOf(b);
  edit_ = [&](const std::string& hash, v1::LocalDbState* s) {
    if (hash == a_hash) s->set_code(static_cast<int>(absl::StatusCode::kUnavailable));
    if (hash == b_hash) s->mutable_identity()->set_mtime_ns(s->identity().mtime_ns() - 1);  // Not the file now.
  };
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a, b, c}, part, me);
  for (const DbOutcome& o : out) EXPECT_THAT(Results(o), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(cache_.sqlite_reads(), 2u) << "a and b";
}

TEST_F(LocalPeerTest, ThePartitionKeyThePeerGivesDecidesWhetherADatabaseIsMisplaced) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  edit_ = [&](const std::string&, v1::LocalDbState* s) { s->set_partition_key(s->partition_key() ^ 0xc0000000u); };
  PeersInSync();
  Pass({a}, part, me);
  EXPECT_GT(SyncCalls(), 0) << "a misplaced database takes Swift's per-database path";
}

TEST_F(LocalPeerTest, AnUnmountedDeviceIsAskedAgainLater) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  ASSERT_OK_AND_ASSIGN(DbFileIdentity id, StatDbFile(a));
  while (StateCache::CoarseNowNs() <= std::max(id.mtime_ns, id.ctime_ns)) usleep(1000);
  auto answer = peers_.on_read_states;
  peers_.on_read_states = [](const PeerAddress&, const v1::ReadStatesRequest&) -> absl::StatusOr<v1::ReadStatesResponse> {
    return DeviceUnavailableError("d0 is not mounted");
  };
  PeersInSync();
  // One replicator for both passes, as the agent keeps one.
  DbReplicator per_db(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
  PartitionReplicator p(options_, ring_.get(), &peers_, &rsync_, &per_db, &recorder_, &locks_, &cache_);
  std::vector<WalkItem> items{WalkItem{part, a, me, absl::StrCat("d", me)}};
  p.Replicate(items);
  EXPECT_EQ(cache_.sqlite_reads(), 1u);
  cache_.Erase(a);
  peers_.on_read_states = answer;  // Mounted again.
  std::vector<DbOutcome> out = p.Replicate(items);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(peers_.read_states_calls, 2);
  EXPECT_EQ(cache_.sqlite_reads(), 1u) << "the second pass had the peer's state";
}

TEST_F(LocalPeerTest, ADatabaseThePeerFoundCorruptIsCountedAsQuarantined) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  const std::string a_hash = HashOf(a);
  edit_ = [&](const std::string& hash, v1::LocalDbState* s) {
    if (hash != a_hash) return;
    // As the peer answers once its read has moved the database away.
    ASSERT_OK(MakeDirs(options_.devices + "/q"));
    ASSERT_EQ(rename(Dirname(a).c_str(), (options_.devices + "/q/" + a_hash).c_str()), 0);
    StatusFields f = ToStatusFields(DbCorruptError("Quarantined it due to malformed database"));
    s->Clear();
    s->set_code(f.code);
    s->set_reason(f.reason);
    s->set_message(f.message);
  };
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a}, part, me);
  EXPECT_EQ(LocalActionName(out[0].local_action), "quarantined");
  EXPECT_EQ(stats_.Snapshot().quarantined, 1);
  EXPECT_EQ(stats_.Snapshot().failure, 3);
  EXPECT_EQ(SyncCalls(), 0);
}

TEST_F(LocalPeerTest, StatesFromPeerOffReadsFromSqlite) {
  options_.states_from_peer = false;
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  PeersInSync();
  std::vector<DbOutcome> out = Pass({a}, part, me);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(peers_.read_states_calls, 0);
  EXPECT_EQ(cache_.sqlite_reads(), 1u);
}

TEST_F(LocalPeerTest, APeerThatRefusesTheCallIsNotAskedAgain) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  peers_.on_read_states = [](const PeerAddress&, const v1::ReadStatesRequest&) -> absl::StatusOr<v1::ReadStatesResponse> {
    return absl::FailedPreconditionError("the caller's [swift-hash] secrets are not this peer's");
  };
  PeersInSync();
  DbReplicator per_db(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
  PartitionReplicator p(options_, ring_.get(), &peers_, &rsync_, &per_db, &recorder_, &locks_, &cache_);
  std::vector<WalkItem> items{WalkItem{part, a, me, absl::StrCat("d", me)}};
  std::vector<DbOutcome> out = p.Replicate(items);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kNoChange, PeerResult::kNoChange));
  EXPECT_EQ(cache_.sqlite_reads(), 1u);
  cache_.Erase(a);
  p.Replicate(items);
  EXPECT_EQ(peers_.read_states_calls, 1);
  EXPECT_EQ(cache_.sqlite_reads(), 2u);
}

}  // namespace
}  // namespace dbrepl::agent
