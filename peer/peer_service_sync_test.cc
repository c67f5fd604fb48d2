// In-process gRPC tests of dbrepl.v1.ReplicationPeer: the partition
// handshake, sharded containers left alone, and storage policies settled in
// Sync, against real SQLite files and a real server on loopback.
#include "peer/testing/peer_service_fixture.h"

namespace dbrepl::peer {
namespace {

using ::dbrepl::peer::testing::FillValidSync;
using ::dbrepl::peer::testing::kHash;
using ::dbrepl::peer::testing::kHash2;
using ::dbrepl::peer::testing::NewTmpDir;
using ::dbrepl::peer::testing::PeerServiceTest;
using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::StatusIs;

v1::DbDigest DigestOf(const ReplicationInfo& info, const std::string& name_hash, const std::string& id) {
  v1::DbDigest d;
  d.set_hash(name_hash);
  d.set_id(id);
  d.set_max_row(info.max_row);
  d.set_rows_hash(info.hash);
  auto digest = StateDigest(info);
  d.set_state_digest(std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return d;
}

// A SyncPartition request for partition 7 of container device sda.
v1::SyncPartitionRequest PartitionRequest(const std::vector<v1::DbDigest>& dbs) {
  v1::SyncPartitionRequest req;
  req.set_type(v1::CONTAINER);
  req.set_device("sda");
  req.set_partition(7);
  for (const v1::DbDigest& d : dbs) *req.add_dbs() = d;
  return req;
}

TEST_F(PeerServiceTest, SyncPartitionAnswersEveryDatabaseInOneCall) {
  auto same = CreateContainer(DbFile(kHash), 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, same->GetReplicationInfo());
  v1::SyncPartitionRequest req;
  req.set_type(v1::CONTAINER);
  req.set_device("sda");
  req.set_partition(7);
  *req.add_dbs() = DigestOf(info, kHash, "sender");      // Same rows, no point yet.
  *req.add_dbs() = DigestOf(info, kHash2, "sender");     // Not here.
  ReplicationInfo other = info;
  other.hash = "0123456789abcdef0123456789abcdef";
  other.max_row = 9;
  *req.add_dbs() = DigestOf(other, kHash, "sender2");    // Different rows (named twice: refused below).
  v1::SyncPartitionResponse resp;
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::SyncPartition, req, &resp)), ErrorReason::kInvalidRequest);
  req.mutable_dbs()->RemoveLast();
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::SyncPartition, req, &resp));
  ASSERT_EQ(resp.dbs_size(), 2);
  const v1::PeerDbState& a = resp.dbs(0);
  EXPECT_EQ(a.presence(), v1::PeerDbState::PRESENT);
  EXPECT_EQ(a.id(), info.id);
  EXPECT_TRUE(a.rows_hash_equal());
  EXPECT_TRUE(a.state_equal());
  EXPECT_EQ(a.point(), info.max_row) << "raised on the hash match, as Sync does";
  EXPECT_EQ(resp.dbs(1).presence(), v1::PeerDbState::MISSING);
  // Held, not yet written; Sync sees it too; a flush writes it.
  ASSERT_OK_AND_ASSIGN(int64_t stored, same->GetSync("sender"));
  EXPECT_EQ(stored, -1);
  v1::SyncRequest sreq = SyncRequestFor(info, Ref());
  sreq.set_id("sender");
  v1::SyncResponse sresp;
  ASSERT_OK(Sync(sreq, &sresp));
  EXPECT_EQ(sresp.point(), info.max_row);
  EXPECT_EQ(service_->rpc().FlushPendingPoints(absl::ZeroDuration(), 100), 1);
  ASSERT_OK_AND_ASSIGN(stored, same->GetSync("sender"));
  EXPECT_EQ(stored, info.max_row);
}

TEST_F(PeerServiceTest, SyncPartitionsAnswersEachPartitionOnItsOwn) {
  auto db = CreateContainer(DbFile(kHash), 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, db->GetReplicationInfo());
  v1::SyncPartitionsRequest req;
  v1::SyncPartitionRequest* here = req.add_partitions();
  here->set_type(v1::CONTAINER);
  here->set_device("sda");
  here->set_partition(7);
  *here->add_dbs() = DigestOf(info, kHash, "sender");
  v1::SyncPartitionRequest* bad = req.add_partitions();  // A path outside the devices: refused alone.
  *bad = *here;
  bad->set_device("../sda");
  v1::SyncPartitionRequest* missing = req.add_partitions();
  *missing = *here;
  *missing->mutable_dbs(0) = DigestOf(info, kHash2, "sender");
  v1::SyncPartitionsResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::SyncPartitions, req, &resp));
  ASSERT_EQ(resp.partitions_size(), 3);
  EXPECT_EQ(resp.partitions(0).code(), 0);
  ASSERT_EQ(resp.partitions(0).answer().dbs_size(), 1);
  EXPECT_EQ(resp.partitions(0).answer().dbs(0).presence(), v1::PeerDbState::PRESENT);
  EXPECT_EQ(resp.partitions(0).answer().dbs(0).point(), info.max_row) << "raised on the hash match";
  EXPECT_EQ(resp.partitions(1).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(resp.partitions(1).reason(), "INVALID_DB_REF");
  EXPECT_EQ(resp.partitions(1).answer().dbs_size(), 0);
  EXPECT_EQ(resp.partitions(2).code(), 0);
  ASSERT_EQ(resp.partitions(2).answer().dbs_size(), 1);
  EXPECT_EQ(resp.partitions(2).answer().dbs(0).presence(), v1::PeerDbState::MISSING);

  // Over the limits: the whole call is refused, nothing is answered.
  v1::SyncPartitionsRequest big;
  for (int i = 0; i < 1025; ++i) *big.add_partitions() = *missing;
  resp.Clear();
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::SyncPartitions, big, &resp)), ErrorReason::kInvalidRequest);
  EXPECT_EQ(resp.partitions_size(), 0);
}

TEST_F(PeerServiceTest, SyncPartitionSaysWhenTimestampsOrRowsDiffer) {
  auto db = CreateContainer(DbFile(kHash), 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, db->GetReplicationInfo());
  ReplicationInfo newer = info;
  newer.put_timestamp = "0000000099.00000";
  newer.hash = "0123456789abcdef0123456789abcdef";
  v1::SyncPartitionRequest req = PartitionRequest({DigestOf(newer, kHash, "sender")});
  v1::SyncPartitionResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::SyncPartition, req, &resp));
  EXPECT_FALSE(resp.dbs(0).state_equal());
  EXPECT_FALSE(resp.dbs(0).rows_hash_equal());
  EXPECT_EQ(resp.dbs(0).point(), -1);
  // It merged nothing: that is Sync's job.
  ASSERT_OK_AND_ASSIGN(ReplicationInfo after, db->GetReplicationInfo());
  EXPECT_EQ(after.put_timestamp, info.put_timestamp);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(PeerServiceTest, SyncPartitionDoesNotReadADatabaseBehindALinkedDirectory) {
  // A partition directory that is a link to a database elsewhere (an rsync
  // daemon writable over the devices root could plant one), with rows
  // waiting in its .pending that a read would flush.
  const std::string elsewhere = NewTmpDir();
  const std::string outside = DbFilePath(elsewhere, "sda", DbType::kContainer, 7, kHash);
  auto db = CreateContainer(outside, 2);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, db->GetReplicationInfo());
  db.reset();
  {
    std::ofstream pending(outside + ".pending", std::ios::app);
    pending << ":garbage";
  }
  ASSERT_OK(MakeDirs(devices_ + "/sda/containers"));
  ASSERT_EQ(symlink((elsewhere + "/sda/containers/7").c_str(), (devices_ + "/sda/containers/7").c_str()), 0);
  v1::SyncPartitionResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::SyncPartition, PartitionRequest({DigestOf(info, kHash, "sender")}),
                 &resp));
  ASSERT_EQ(resp.dbs_size(), 1);
  // Left to Sync, which refuses the link.
  EXPECT_NE(resp.dbs(0).presence(), v1::PeerDbState::PRESENT);
  EXPECT_EQ(ReadFileOrDie(outside + ".pending"), ":garbage") << "not flushed";
  v1::SyncRequest sreq = SyncRequestFor(info, Ref());
  v1::SyncResponse sresp;
  EXPECT_EQ(GetReason(Sync(sreq, &sresp)), ErrorReason::kInvalidRequest);
}

// Swift's container sharding: dbrepl replicates neither a sharding nor a
// sharded container, and never takes an epoch file for a missing database.
TEST_F(PeerServiceTest, ShardedContainersAreNeitherMissingNorTouched) {
  // kHash: sharded (the epoch file alone, as after Swift's sharder).
  const std::string epoch_file = Dirname(DbFile(kHash)) + "/" + kHash + "_0000001234.00000.db";
  ReplicationInfo info;
  {
    auto sharded = CreateContainer(epoch_file, 3);
    ASSERT_OK_AND_ASSIGN(info, sharded->GetReplicationInfo());
    EXPECT_EQ(info.db_state, "collapsed");
  }
  // kHash2: unsharded "<hash>.db" with a shard range (the sharder has begun).
  {
    auto ranged = CreateContainer(DbFile(kHash2), 2);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbFile(kHash2).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO shard_range (name, timestamp, lower, upper, object_count, bytes_used, "
                           "meta_timestamp, deleted, state, state_timestamp, epoch, reported, tombstones) VALUES "
                           "('a/c', '0000001234.00000', '', '', 0, 0, '0000001234.00000', 0, 20, "
                           "'0000001234.00000', NULL, 0, -1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const std::string before = ReadFileOrDie(epoch_file);
  const std::string before2 = ReadFileOrDie(DbFile(kHash2));

  v1::SyncResponse sresp;
  absl::Status sync = Sync(SyncRequestFor(info, Ref(kHash)), &sresp);
  EXPECT_EQ(GetReason(sync), ErrorReason::kDbSharded) << sync;
  EXPECT_EQ(sync.code(), absl::StatusCode::kFailedPrecondition);
  ReplicationInfo other = info;
  other.metadata = R"({"X-Container-Meta-New": ["v", "0000009999.00000"]})";
  other.put_timestamp = "0000009999.00000";
  sync = Sync(SyncRequestFor(other, Ref(kHash2)), &sresp);
  EXPECT_EQ(GetReason(sync), ErrorReason::kDbSharded) << sync;

  // The partition handshake calls neither missing (Sync then says why).
  v1::SyncPartitionRequest preq =
      PartitionRequest({DigestOf(info, kHash, "sender"), DigestOf(info, kHash2, "sender")});
  v1::SyncPartitionResponse presp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::SyncPartition, preq, &presp));
  ASSERT_EQ(presp.dbs_size(), 2);
  for (const v1::PeerDbState& a : presp.dbs()) {
    EXPECT_NE(a.presence(), v1::PeerDbState::MISSING);
    EXPECT_NE(a.presence(), v1::PeerDbState::PRESENT);
  }

  // No rows merged, no sync points, no install beside the epoch file.
  EXPECT_EQ(GetReason(Merge(Ref(kHash), "sender", {Objects(0, 2)}).status()), ErrorReason::kDbSharded);
  EXPECT_EQ(GetReason(Merge(Ref(kHash2), "sender", {Objects(0, 2)}).status()), ErrorReason::kDbSharded);
  v1::MergeSyncsRequest mreq;
  *mreq.mutable_db() = Ref(kHash2);
  v1::SyncPoint* p = mreq.add_syncs();
  p->set_remote_id("third");
  p->set_sync_point(5);
  v1::MergeSyncsResponse mresp;
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::MergeSyncs, mreq, &mresp)), ErrorReason::kDbSharded);

  ASSERT_OK(MakeDirs(devices_ + "/sda/tmp"));
  const std::string upload = devices_ + "/sda/tmp/" + info.id;
  {
    std::ofstream out(upload, std::ios::binary);
    out << before;
  }
  v1::CompleteRsyncRequest creq;
  *creq.mutable_db() = Ref(kHash);
  creq.set_tmp_name(info.id);
  v1::CompleteRsyncResponse cresp;
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::CompleteRsync, creq, &cresp)), ErrorReason::kDbSharded);
  EXPECT_FALSE(PathExists(DbFile(kHash))) << "a second <hash>.db beside the epoch file";
  {
    std::ofstream out(upload, std::ios::binary);
    out << before;
  }
  v1::RsyncThenMergeRequest rreq;
  *rreq.mutable_db() = Ref(kHash2);
  rreq.set_tmp_name(info.id);
  v1::RsyncThenMergeResponse rresp;
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::RsyncThenMerge, rreq, &rresp)), ErrorReason::kDbSharded);

  EXPECT_EQ(ReadFileOrDie(epoch_file), before);
  EXPECT_EQ(ReadFileOrDie(DbFile(kHash2)), before2);
}

// Swift's _get_synced_replication_info: the receiver takes the sender's
// storage policy index when the sender's claim is the better.
TEST_F(PeerServiceTest, SyncSettlesWhoseStoragePolicyIndexWins) {
  auto db = CreateContainer(DbFile(), 2);  // Policy 0, status changed at creation.
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, db->GetReplicationInfo());
  ASSERT_EQ(info.storage_policy_index, 0);
  v1::SyncRequest req = SyncRequestFor(info, Ref());
  req.set_id("sender");
  // A newer status change: ours is the older claim and stays.
  req.mutable_policy()->set_storage_policy_index(2);
  req.mutable_policy()->set_status_changed_at("9999999999.00000");
  req.mutable_policy()->set_object_count(2);
  v1::SyncResponse resp;
  ASSERT_OK(Sync(req, &resp));
  EXPECT_EQ(resp.info().storage_policy_index(), 0);
  // An older one wins: the answer already carries the sender's index.
  req.mutable_policy()->set_status_changed_at("0000000000.50000");
  ASSERT_OK(Sync(req, &resp));
  EXPECT_EQ(resp.info().storage_policy_index(), 2);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo after, db->GetReplicationInfo());
  EXPECT_EQ(after.storage_policy_index, 2);
  EXPECT_GT(after.status_changed_at, info.status_changed_at);
  // Without policy facts (an older sender), ours stays whatever it claims.
  req.clear_policy();
  ASSERT_OK(Sync(req, &resp));
  EXPECT_EQ(resp.info().storage_policy_index(), 2);
  // Bad facts are refused before anything happens.
  req.mutable_policy()->set_storage_policy_index(-1);
  req.mutable_policy()->set_status_changed_at("0000000000.50000");
  EXPECT_EQ(GetReason(Sync(req, &resp)), ErrorReason::kInvalidRequest);
  req.mutable_policy()->set_storage_policy_index(1);
  req.mutable_policy()->set_status_changed_at("yesterday");
  EXPECT_EQ(GetReason(Sync(req, &resp)), ErrorReason::kInvalidRequest);
}

}  // namespace
}  // namespace dbrepl::peer
