// DbReplicator against a fake peer and a fake rsync: the decisions and the
// hazards around them, without processes. Databases and the ring are real
// files; only the network side is scripted, because a peer that fails in a
// chosen way at a chosen moment cannot be had on demand from a real one.
#include "agent/db_replicator.h"

#include "agent/partition_replicator.h"
#include "common/db/state_cache.h"

#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "agent/outcome.h"
#include "common/db/broker.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/hash_path.h"
#include "common/paths.h"
#include "common/ring/reloading_ring.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sqlite3.h"

namespace dbrepl::agent {
namespace {

using ::testing::ElementsAre;

// A scripted peer: each call is answered by the handler for the node's
// device ("d0", "d1", ...), or by the default.
class FakePeers : public PeerClient {
 public:
  struct Calls {
    int sync = 0, merge_items = 0, merge_syncs = 0, complete_rsync = 0, rsync_then_merge = 0;
  };
  std::function<absl::StatusOr<v1::SyncResponse>(const v1::DbRef&, const ReplicationInfo&)> on_sync;
  std::map<std::string, Calls> calls;  // device -> calls
  int64_t rows_streamed = 0;

  absl::StatusOr<v1::SyncResponse> Sync(const PeerAddress&, const v1::DbRef& ref,
                                        const ReplicationInfo& info) override {
    ++calls[ref.device()].sync;
    return on_sync(ref, info);
  }
  std::function<absl::StatusOr<v1::SyncPartitionResponse>(const v1::SyncPartitionRequest&)> on_sync_partition;
  int sync_partition_calls = 0;
  absl::StatusOr<v1::SyncPartitionResponse> SyncPartition(const PeerAddress&,
                                                          const v1::SyncPartitionRequest& req) override {
    ++sync_partition_calls;
    if (!on_sync_partition) return absl::UnimplementedError("not scripted");
    return on_sync_partition(req);
  }
  absl::StatusOr<UsyncResult> MergeItems(const PeerAddress&, const v1::DbRef& ref, const RowSource& rows,
                                         int64_t point, const std::string&, int per_diff, int max_diffs,
                                         UsyncResult* acked) override {
    ++calls[ref.device()].merge_items;
    UsyncResult r;
    r.point = point;
    for (int i = 0; i < max_diffs; ++i) {
      absl::StatusOr<ItemBatch> b = rows(r.point, per_diff);
      if (!b.ok()) return b.status();
      if (b->empty()) break;
      r.point = b->last_rowid();
      r.rows_sent += static_cast<int64_t>(b->size());
      ++r.batches;
    }
    rows_streamed += r.rows_sent;
    if (acked != nullptr) *acked = r;
    return r;
  }
  absl::Status MergeSyncs(const PeerAddress&, const v1::DbRef& ref, const std::vector<SyncRecord>&) override {
    ++calls[ref.device()].merge_syncs;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> CompleteRsync(const PeerAddress&, const v1::DbRef& ref, const std::string&,
                                            const std::string&, absl::Duration) override {
    ++calls[ref.device()].complete_rsync;
    return std::string("new-id");
  }
  absl::StatusOr<v1::CompleteRsyncBatchResponse> CompleteRsyncBatch(const PeerAddress&,
                                                                    const v1::CompleteRsyncBatchRequest& req,
                                                                    absl::Duration) override {
    v1::CompleteRsyncBatchResponse resp;
    for (const v1::CompleteRsyncRequest& r : req.installs()) {
      ++calls[r.db().device()].complete_rsync;
      resp.add_results()->set_new_id("new-id");
    }
    ++batch_installs;
    return resp;
  }
  int batch_installs = 0;
  absl::StatusOr<std::string> RsyncThenMerge(const PeerAddress&, const v1::DbRef& ref, const std::string&,
                                             const std::string&, absl::Duration) override {
    ++calls[ref.device()].rsync_then_merge;
    return std::string("new-id");
  }
};

class FakeRsync : public RsyncRunner {
 public:
  std::vector<bool> pushes;  // whole_file of each push
  std::function<void()> during_first_push;
  absl::StatusOr<std::string> Destination(const RingNode& node, const std::string& id) const override {
    return absl::StrCat(node.device, "/tmp/", id);
  }
  absl::Status PushBatch(const std::vector<std::pair<std::string, std::string>>& files, const RingNode&,
                         const std::string&, bool) const override {
    auto* self = const_cast<FakeRsync*>(this);
    self->batches.push_back(files.size());
    return absl::OkStatus();
  }
  std::vector<size_t> batches;
  absl::Status Push(const std::string&, const std::string&, bool whole_file, bool) const override {
    auto* self = const_cast<FakeRsync*>(this);
    self->pushes.push_back(whole_file);
    if (self->pushes.size() == 1 && during_first_push) during_first_push();
    return absl::OkStatus();
  }
};

v1::SyncResponse Answer(const ReplicationInfo& mine, int64_t point, int64_t max_row, const std::string& hash,
                        const std::string& id = "peer-id") {
  v1::SyncResponse r;
  r.mutable_info()->set_id(id);
  r.mutable_info()->set_max_row(max_row);
  r.mutable_info()->set_hash(hash);
  r.mutable_info()->set_created_at(mine.created_at);
  r.mutable_info()->set_put_timestamp(mine.put_timestamp);
  r.mutable_info()->set_delete_timestamp(mine.delete_timestamp);
  r.set_point(point);
  return r;
}

class DbReplicatorTest : public ::testing::Test {
 protected:
  // A ring of `devices` devices on one node, 3 replicas, part power 2; this
  // node is device `local`.
  void SetUp() override {
    root_ = absl::StrCat(getenv("TEST_TMPDIR"), "/", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::vector<RingDevice> devs;
    for (int i = 0; i < 4; ++i) {
      RingDevice d;
      d.region = 1;
      d.zone = i + 1;
      d.ip = d.replication_ip = absl::StrCat("127.0.0.", i + 1);
      d.port = d.replication_port = 6201;
      d.device = absl::StrCat("d", i);
      d.weight = 1;
      devs.push_back(d);
      ASSERT_OK(MakeDirs(absl::StrCat(root_, "/srv/node/d", i)));
    }
    auto data = BuildRing(devs, 2, 3);
    ASSERT_OK(data);
    ASSERT_OK(MakeDirs(root_ + "/etc"));
    ASSERT_OK(WriteRingFile(root_ + "/etc/container.ring.gz", *data));
    auto ring = ReloadingRing::Open(root_ + "/etc/container.ring.gz");
    ASSERT_OK(ring);
    ring_ = std::move(*ring);
    options_.devices = root_ + "/srv/node";
    options_.hash_config = HashPathConfig{"p", "s"};
    peers_.on_sync = [](const v1::DbRef&, const ReplicationInfo& info) {
      return Answer(info, info.max_row, info.max_row, info.hash);  // In sync.
    };
  }

  // Creates "a/<container>" with `rows` rows on device `dev` in `partition`
  // (the ring's when < 0). Returns its path.
  std::string MakeDb(int dev, const std::string& container, int rows, int64_t partition = -1) {
    int64_t part = partition >= 0 ? partition : Partition(container);
    std::string hash = HashPath(options_.hash_config, "a", container);
    std::string path = DbFilePath(options_.devices, absl::StrCat("d", dev), DbType::kContainer, part, hash);
    auto b = DatabaseBroker::Create(DbType::kContainer, path, "a", container, "0000000001.00000");
    EXPECT_OK(b);
    ItemBatch batch;
    for (int i = 0; i < rows; ++i) {
      ObjectRecord o;
      o.name = absl::StrCat("o", i);
      o.created_at = absl::StrCat(1700000000 + i, ".00000");
      batch.objects.push_back(o);
    }
    if (rows > 0) EXPECT_OK((*b)->MergeItems(batch, ""));
    return path;
  }
  int64_t Partition(const std::string& container) {
    return ring_->Get()->GetPart(options_.hash_config, "a", container);
  }
  std::vector<int> Primaries(int64_t part) {
    std::vector<int> ids;
    for (const RingNode& n : ring_->Get()->GetPartNodes(part)) ids.push_back(n.id);
    return ids;
  }
  // A device that is not a primary of `part`.
  int Handoff(int64_t part) {
    std::vector<int> p = Primaries(part);
    for (int i = 0; i < 4; ++i) {
      if (std::find(p.begin(), p.end(), i) == p.end()) return i;
    }
    return -1;
  }
  DbOutcome Replicate(const std::string& path, int64_t part, int dev) {
    DbReplicator r(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
    return r.ReplicateDb(part, path, dev);
  }
  std::vector<PeerResult> Results(const DbOutcome& o) {
    std::vector<PeerResult> out;
    for (const NodeOutcome& n : o.peers) out.push_back(n.result);
    return out;
  }

  std::string root_;
  std::unique_ptr<ReloadingRing> ring_;
  ReplicatorOptions options_;
  FakePeers peers_;
  FakeRsync rsync_;
  StatsCollector stats_;
  OutcomeRecorder recorder_{&stats_, nullptr};
  ReplicationLocks locks_{DbType::kContainer};
};

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

// The partition path: what is in sync costs one SyncPartition per peer.
class PartitionReplicatorTest : public DbReplicatorTest {
 protected:
  // A peer whose replicas equal ours: answers from what the sender says.
  void PeersInSync() {
    peers_.on_sync_partition = [this](const v1::SyncPartitionRequest& req) {
      v1::SyncPartitionResponse resp;
      for (const v1::DbDigest& d : req.dbs()) {
        v1::PeerDbState* a = resp.add_dbs();
        a->set_presence(v1::PeerDbState::PRESENT);
        a->set_id("id-" + req.device());
        a->set_max_row(d.max_row());
        a->set_point(peer_points_ ? d.max_row() : -1);  // Raised on the hash match, or not there at all.
        a->set_rows_hash_equal(true);
        a->set_state_equal(true);
      }
      return resp;
    };
  }
  std::vector<DbOutcome> Pass(const std::vector<std::string>& paths, int64_t part, int dev) {
    std::vector<WalkItem> items;
    for (const std::string& path : paths) items.push_back(WalkItem{part, path, dev, absl::StrCat("d", dev)});
    return Pass(items);
  }
  std::vector<DbOutcome> Pass(const std::vector<WalkItem>& items) {
    DbReplicator per_db(options_, ring_.get(), &peers_, &rsync_, &recorder_, &locks_);
    PartitionReplicator p(options_, ring_.get(), &peers_, &rsync_, &per_db, &recorder_, &locks_, &cache_);
    std::vector<std::string> paths;
    for (const WalkItem& item : items) paths.push_back(item.db_file);
    // Settle the coarse clock past the files' last writes, so the cache may
    // keep what it reads.
    int64_t newest = 0;
    for (const std::string& path : paths) {
      if (auto id = StatDbFile(path); id.ok()) newest = std::max({newest, id->mtime_ns, id->ctime_ns});
    }
    while (StateCache::CoarseNowNs() <= newest) usleep(1000);
    return p.Replicate(items);
  }
  int SyncCalls() {
    int n = 0;
    for (auto& [dev, c] : peers_.calls) n += c.sync;
    return n;
  }
  StateCache cache_;
  bool peer_points_ = true;
};

TEST_F(PartitionReplicatorTest, InSyncDatabasesCostOneCallPerPeerAndNoSqliteOnceCached) {
  // Two databases in one partition, on its first primary.
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string a = MakeDb(me, "c", 5, part);
  std::string b;
  for (int k = 0; b.empty(); ++k) {
    if (Partition(absl::StrCat("x", k)) == part) b = MakeDb(me, absl::StrCat("x", k), 3, part);
  }
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
  std::string b;
  for (int k = 0; b.empty(); ++k) {
    if (Partition(absl::StrCat("x", k)) == part) b = MakeDb(me, absl::StrCat("x", k), 3, part);
  }
  const std::string b_hash = HashOf(b);
  std::string c;
  for (int k = 1000; c.empty(); ++k) {
    if (Partition(absl::StrCat("x", k)) == part) c = MakeDb(me, absl::StrCat("x", k), 2, part);
  }
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

// Gives the container at `path` a shard range (its own, state SHARDING), as
// Swift's sharder does before it creates the epoch file.
void AddShardRange(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db,
                         "INSERT INTO shard_range (name, timestamp, lower, upper, object_count, bytes_used, "
                         "meta_timestamp, deleted, state, state_timestamp, epoch, reported, tombstones) VALUES "
                         "('a/c', '0000001234.00000', '', '', 0, 0, '0000001234.00000', 0, 30, "
                         "'0000001234.00000', '0000001234.00000', 0, -1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
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

TEST_F(PartitionReplicatorTest, AShardedContainerStaysOffTheFastPath) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string plain = MakeDb(me, "c", 5, part);
  std::string ranged;
  for (int k = 0; ranged.empty(); ++k) {
    if (Partition(absl::StrCat("x", k)) == part) ranged = MakeDb(me, absl::StrCat("x", k), 3, part);
  }
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

TEST_F(PartitionReplicatorTest, RowsAPeerLacksAreStreamedWithoutAPerDatabaseSync) {
  int64_t part = Partition("c");
  int me = Primaries(part)[0];
  std::string path = MakeDb(me, "c", 30, part);
  // Both peers: same timestamps and metadata, 10 rows behind, their points
  // for us where they stopped; one has far fewer (rsync_then_merge: Swift's
  // per-database path).
  const std::string far = absl::StrCat("d", Primaries(part)[2]);
  peers_.on_sync_partition = [&](const v1::SyncPartitionRequest& req) {
    v1::SyncPartitionResponse resp;
    for (const v1::DbDigest& d : req.dbs()) {
      v1::PeerDbState* a = resp.add_dbs();
      a->set_presence(v1::PeerDbState::PRESENT);
      a->set_id("id-" + req.device());
      const int64_t behind = req.device() == far ? d.max_row() - 25 : d.max_row() - 10;
      a->set_max_row(behind);
      a->set_point(behind);
      a->set_rows_hash_equal(false);
      a->set_state_equal(true);
    }
    return resp;
  };
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
  peers_.on_sync_partition = [&](const v1::SyncPartitionRequest& req) {
    v1::SyncPartitionResponse resp;
    for (const v1::DbDigest& d : req.dbs()) {
      v1::PeerDbState* a = resp.add_dbs();
      a->set_presence(v1::PeerDbState::PRESENT);
      a->set_id("id-" + req.device());
      a->set_max_row(d.max_row() - 10);
      a->set_point(d.max_row() - 10);
      a->set_rows_hash_equal(false);
      a->set_state_equal(true);
    }
    return resp;
  };
  out = Pass({path}, part, me);
  EXPECT_EQ(SyncCalls(), 0);
  EXPECT_THAT(Results(out[0]), ElementsAre(PeerResult::kDiff, PeerResult::kDiff));
  EXPECT_TRUE(out[0].success);
  EXPECT_EQ(peers_.rows_streamed, 20);
  EXPECT_EQ(peers_.calls[near].merge_items, 1);
  EXPECT_EQ(peers_.calls[near].merge_syncs, 1);
  // Our outgoing points record what each peer acknowledged.
  ASSERT_OK_AND_ASSIGN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
  ASSERT_OK_AND_ASSIGN(int64_t point, broker->GetSync("id-" + near, /*incoming=*/false));
  EXPECT_EQ(point, 30);
}

}  // namespace
}  // namespace dbrepl::agent
