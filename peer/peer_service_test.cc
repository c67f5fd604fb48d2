// In-process gRPC tests of dbrepl.v1.ReplicationPeer: every operation and
// every error path, against real SQLite files and a real server on loopback.
// The partition handshake, sharding and policies: peer_service_sync_test.
#include "common/db/testing/db_test_util.h"
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

TEST_F(PeerServiceTest, SyncOnMissingDatabaseIsNotFoundAndPreparesTmp) {
  v1::SyncRequest req;
  *req.mutable_db() = Ref();
  req.set_id("sender-id");
  FillValidSync(&req);
  v1::SyncResponse resp;
  absl::Status s = Sync(req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(GetReason(s), ErrorReason::kDbNotFound);
  EXPECT_TRUE(IsDirectory(devices_ + "/sda/tmp"));
  EXPECT_EQ(metrics_.RequestCount("Sync", absl::StatusCode::kNotFound), 1);
}

TEST_F(PeerServiceTest, SyncAnswersInfoAndRaisesPointOnHashMatch) {
  auto local = CreateContainer(DbFile(), 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  // A sender with different rows: point stays -1.
  v1::SyncRequest req = SyncRequestFor(info, Ref());
  req.set_id("other-db");
  req.set_hash("ffffffffffffffffffffffffffffffff");
  v1::SyncResponse resp;
  ASSERT_OK(Sync(req, &resp));
  EXPECT_EQ(resp.point(), -1);
  EXPECT_EQ(resp.info().hash(), info.hash);
  EXPECT_EQ(resp.info().max_row(), 3);
  EXPECT_EQ(resp.info().count(), 3);
  EXPECT_EQ(resp.info().id(), info.id);
  // Same hash (same rows): the peer records the sender as synced to max_row.
  req.set_hash(info.hash);
  req.set_max_row(9);
  ASSERT_OK(Sync(req, &resp));
  EXPECT_EQ(resp.point(), 9);
  ASSERT_OK_AND_ASSIGN(int64_t point, local->GetSync("other-db"));
  EXPECT_EQ(point, 9);
}

TEST_F(PeerServiceTest, SyncMergesNewerMetadataAndTimestamps) {
  auto local = CreateContainer(DbFile(), 1);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  v1::SyncRequest req = SyncRequestFor(info, Ref());
  req.set_id("other-db");
  req.set_put_timestamp("0000000005.00000");
  req.set_metadata(R"({"X-Container-Meta-Color": ["blue", "0000000002.00000"]})");
  v1::SyncResponse resp;
  ASSERT_OK(Sync(req, &resp));
  // The answer is the info from before the merge, as in Swift.
  EXPECT_EQ(resp.info().put_timestamp(), "0000000001.00000");
  ASSERT_OK_AND_ASSIGN(ReplicationInfo after, local->GetReplicationInfo());
  EXPECT_EQ(after.put_timestamp, "0000000005.00000");
  EXPECT_THAT(after.metadata, ::testing::HasSubstr("blue"));
}

TEST_F(PeerServiceTest, UndecodableMetadataIsIgnoredLikeSwift) {
  auto local = CreateContainer(DbFile(), 1);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  v1::SyncRequest req = SyncRequestFor(info, Ref());
  req.set_id("other-db");
  req.set_metadata("{not json");
  v1::SyncResponse resp;
  EXPECT_OK(Sync(req, &resp));
}

TEST_F(PeerServiceTest, MergeItemsAcknowledgesEachBatchWithItsSyncPoint) {
  auto local = CreateContainer(DbFile(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> acks,
                       Merge(Ref(), "sender", {Objects(0, 10), Objects(10, 10), Objects(20, 5)}));
  EXPECT_THAT(acks, ::testing::ElementsAre(10, 20, 25));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  EXPECT_EQ(info.count, 25);
  ASSERT_OK_AND_ASSIGN(int64_t point, local->GetSync("sender"));
  EXPECT_EQ(point, 25);
}

TEST_F(PeerServiceTest, CutStreamKeepsAcknowledgedBatchesAndResumes) {
  auto local = CreateContainer(DbFile(), 0);
  {
    grpc::ClientContext ctx;
    auto stream = stub_->MergeItems(&ctx);
    v1::MergeItemsRequest req;
    *req.mutable_db() = Ref();
    req.set_source_id("sender");
    AppendRows(Objects(0, 10), &req);
    ASSERT_TRUE(stream->Write(req));
    v1::MergeItemsResponse ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_EQ(ack.sync_point(), 10);
    ctx.TryCancel();  // The connection breaks mid-stream.
    stream->Finish();
  }
  ASSERT_OK_AND_ASSIGN(int64_t point, local->GetSync("sender"));
  EXPECT_EQ(point, 10);
  // The sender resumes from the acknowledged point.
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> acks, Merge(Ref(), "sender", {Objects(10, 10)}));
  EXPECT_THAT(acks, ::testing::ElementsAre(20));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  EXPECT_EQ(info.count, 20);
}

TEST_F(PeerServiceTest, OversizedAndMalformedBatchesAreRejectedAndChangeNothing) {
  auto local = CreateContainer(DbFile(), 0);
  absl::Status too_many = Merge(Ref(), "s", {Objects(0, 101)}).status();
  EXPECT_THAT(too_many, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(GetReason(too_many), ErrorReason::kBatchTooLarge);

  ItemBatch big = Objects(0, 10);
  for (ObjectRecord& o : big.objects) o.name = std::string(10000, 'x') + o.name;
  absl::Status too_big = Merge(Ref(), "s", {big}).status();
  EXPECT_EQ(GetReason(too_big), ErrorReason::kBatchTooLarge);

  ItemBatch unordered = Objects(0, 3);
  std::swap(unordered.objects[0], unordered.objects[2]);
  absl::Status bad_order = Merge(Ref(), "s", {unordered}).status();
  EXPECT_THAT(bad_order, StatusIs(absl::StatusCode::kInvalidArgument));

  ItemBatch wrong_type;
  wrong_type.containers.push_back(ContainerRecord{1, "c", "1.0", "0", 0, 0, false, 0});
  EXPECT_THAT(Merge(Ref(), "s", {wrong_type}).status(), StatusIs(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  EXPECT_EQ(info.max_row, -1);
  EXPECT_EQ(info.count, 0);
}

TEST_F(PeerServiceTest, BadReferencesAreInvalidArgumentAndTouchNothing) {
  std::vector<v1::DbRef> bad;
  for (const char* dev : {"..", "../etc", "a/b", "", "sda\n"}) {
    v1::DbRef r = Ref();
    r.set_device(dev);
    bad.push_back(r);
  }
  v1::DbRef neg = Ref();
  neg.set_partition(-1);
  bad.push_back(neg);
  v1::DbRef hash = Ref();
  hash.set_hash("../../../../../../etc/passwd");
  bad.push_back(hash);
  v1::DbRef type = Ref();
  type.set_type(v1::DB_TYPE_UNSPECIFIED);
  bad.push_back(type);
  for (const v1::DbRef& r : bad) {
    v1::SyncRequest req;
    *req.mutable_db() = r;
    req.set_id("x");
    FillValidSync(&req);
    v1::SyncResponse resp;
    absl::Status s = Sync(req, &resp);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << r.ShortDebugString();
    EXPECT_EQ(GetReason(s), ErrorReason::kInvalidDbRef) << r.ShortDebugString();
    v1::CompleteRsyncRequest cr;
    *cr.mutable_db() = r;
    cr.set_tmp_name("x");
    v1::CompleteRsyncResponse cresp;
    EXPECT_THAT(Call(&v1::ReplicationPeer::Stub::CompleteRsync, cr, &cresp),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // Nothing was created: no tmp dir, nothing outside devices.
  EXPECT_FALSE(PathExists(devices_ + "/sda/tmp"));
  EXPECT_FALSE(PathExists(devices_ + "/tmp"));
}

TEST_F(PeerServiceTest, UnmountedDeviceIsDeviceUnavailable) {
  StartPeer(/*mount_check=*/true, 64);
  v1::SyncRequest req;
  *req.mutable_db() = Ref();
  req.set_id("x");
  FillValidSync(&req);
  v1::SyncResponse resp;
  absl::Status s = Sync(req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(GetReason(s), ErrorReason::kDeviceUnavailable);
  // A device that does not exist at all, without mount_check, too.
  StartPeer(/*mount_check=*/false, 64);
  v1::DbRef r = Ref();
  r.set_device("sdz");
  *req.mutable_db() = r;
  EXPECT_EQ(GetReason(Sync(req, &resp)), ErrorReason::kDeviceUnavailable);
}

TEST_F(PeerServiceTest, MergeSyncsNeverLowersAPoint) {
  auto local = CreateContainer(DbFile(), 0);
  v1::MergeSyncsRequest req;
  *req.mutable_db() = Ref();
  auto* s = req.add_syncs();
  s->set_remote_id("third");
  s->set_sync_point(50);
  v1::MergeSyncsResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::MergeSyncs, req, &resp));
  s->set_sync_point(20);
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::MergeSyncs, req, &resp));
  ASSERT_OK_AND_ASSIGN(int64_t point, local->GetSync("third"));
  EXPECT_EQ(point, 50);
}

// The sender's sync table after its rows, on the same stream: merged there
// and said so, which saves the MergeSyncs call.
TEST_F(PeerServiceTest, SyncsAtTheEndOfAMergeItemsStreamAreMerged) {
  auto local = CreateContainer(DbFile(), 0);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->MergeItems(&ctx);
  v1::MergeItemsRequest rows;
  *rows.mutable_db() = Ref();
  rows.set_source_id("sender");
  AppendRows(Objects(0, 3), &rows);
  ASSERT_TRUE(stream->Write(rows));
  v1::MergeItemsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sync_point(), 3);
  EXPECT_FALSE(ack.syncs_merged());
  v1::MergeItemsRequest tail;
  v1::SyncPoint* p = tail.add_syncs();
  p->set_remote_id("third");
  p->set_sync_point(40);
  ASSERT_TRUE(stream->Write(tail));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_TRUE(ack.syncs_merged());
  EXPECT_EQ(ack.sync_point(), 3);
  stream->WritesDone();
  ASSERT_OK(FromGrpcStatus(stream->Finish(), ctx));
  ASSERT_OK_AND_ASSIGN(int64_t third, local->GetSync("third"));
  EXPECT_EQ(third, 40);
  ASSERT_OK_AND_ASSIGN(int64_t sender, local->GetSync("sender"));
  EXPECT_EQ(sender, 3);

  // A bad point fails the stream, as MergeSyncs would.
  grpc::ClientContext ctx2;
  ctx2.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto bad = stub_->MergeItems(&ctx2);
  v1::MergeItemsRequest req;
  *req.mutable_db() = Ref();
  req.set_source_id("sender");
  v1::SyncPoint* q = req.add_syncs();
  q->set_remote_id("");
  q->set_sync_point(5);
  ASSERT_TRUE(bad->Write(req));
  bad->WritesDone();
  EXPECT_EQ(GetReason(FromGrpcStatus(bad->Finish(), ctx2)), ErrorReason::kInvalidRequest);
}

// The sync table may also ride with the last batch of rows: one transaction
// for both, one acknowledgement saying both are in.
TEST_F(PeerServiceTest, SyncsWithTheLastBatchAreMergedInItsTransaction) {
  auto local = CreateContainer(DbFile(), 0);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->MergeItems(&ctx);
  v1::MergeItemsRequest rows;
  *rows.mutable_db() = Ref();
  rows.set_source_id("sender");
  AppendRows(Objects(0, 3), &rows);
  v1::SyncPoint* p = rows.add_syncs();
  p->set_remote_id("third");
  p->set_sync_point(40);
  ASSERT_TRUE(stream->Write(rows));
  v1::MergeItemsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sync_point(), 3);
  EXPECT_EQ(ack.rows_applied(), 3);
  EXPECT_TRUE(ack.syncs_merged());
  stream->WritesDone();
  ASSERT_OK(FromGrpcStatus(stream->Finish(), ctx));
  ASSERT_OK_AND_ASSIGN(int64_t third, local->GetSync("third"));
  EXPECT_EQ(third, 40);
  ASSERT_OK_AND_ASSIGN(int64_t sender, local->GetSync("sender"));
  EXPECT_EQ(sender, 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  EXPECT_EQ(info.count, 3);
}

// An upload whose schema is not Swift's (here a trigger that would wipe the
// rows later) is never installed nor merged: it is quarantined, and its
// trigger never ran.
TEST_F(PeerServiceTest, AnUploadWithAForeignTriggerIsQuarantinedNotInstalled) {
  ASSERT_OK(MakeDirs(devices_ + "/sda/tmp"));
  const std::string tmp = devices_ + "/sda/tmp/evil-id";
  std::string source_file = NewTmpDir() + "/d/containers/7/85f/" + kHash + "/" + kHash + ".db";
  { auto source = CreateContainer(source_file, 2); }
  {
    auto conn = ::dbrepl::testing::RawConnection(source_file);
    ASSERT_OK(conn->Execute("CREATE TRIGGER wipe AFTER UPDATE ON container_info BEGIN DELETE FROM object; END"));
  }
  ASSERT_OK(RenameDurably(source_file, tmp));
  v1::CompleteRsyncRequest req;
  *req.mutable_db() = Ref();
  req.set_tmp_name("evil-id");
  v1::CompleteRsyncResponse resp;
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp)), ErrorReason::kUploadCorrupt);
  EXPECT_FALSE(PathExists(DbFile()));
  EXPECT_FALSE(PathExists(tmp));
  const std::string kept = devices_ + "/sda/quarantined/uploads/evil-id";
  ASSERT_TRUE(PathExists(kept));
  auto conn = ::dbrepl::testing::RawConnection(kept);
  ASSERT_OK_AND_ASSIGN(SqliteStatement count, conn->Prepare("SELECT COUNT(*) FROM object"));
  ASSERT_OK_AND_ASSIGN(bool row, count.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(count.ColumnInt(0), 2) << "nothing of the upload ran (NewId would have fired the trigger)";
}

TEST_F(PeerServiceTest, CompleteRsyncInstallsUnderNewIdAndRefusesWhenPreconditionsFail) {
  std::string source_dir = NewTmpDir();
  std::string source_file = source_dir + "/sdb/containers/7/85f/" + std::string(kHash) + "/" + kHash + ".db";
  ReplicationInfo source_info;
  {
    auto source = CreateContainer(source_file, 5);
    ASSERT_OK_AND_ASSIGN(source_info, source->GetReplicationInfo());
  }
  ASSERT_OK(MakeDirs(devices_ + "/sda/tmp"));
  std::string tmp = devices_ + "/sda/tmp/" + source_info.id;
  {
    std::ifstream in(source_file, std::ios::binary);
    std::ofstream out(tmp, std::ios::binary);
    out << in.rdbuf();
  }
  v1::CompleteRsyncRequest req;
  *req.mutable_db() = Ref();
  req.set_tmp_name(source_info.id);
  req.set_db_basename(std::string(kHash) + ".db");
  v1::CompleteRsyncResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp));
  EXPECT_NE(resp.new_id(), source_info.id);
  EXPECT_FALSE(PathExists(tmp));
  ASSERT_OK_AND_ASSIGN(auto installed, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, installed->GetReplicationInfo());
  EXPECT_EQ(info.hash, source_info.hash);
  EXPECT_EQ(info.id, resp.new_id());
  ASSERT_OK_AND_ASSIGN(int64_t point, installed->GetSync(source_info.id));
  EXPECT_EQ(point, 5);

  // The database exists now: a second install is refused.
  absl::Status again = Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp);
  EXPECT_EQ(GetReason(again), ErrorReason::kRsyncPrecondition);
  // No such tmp file.
  req.mutable_db()->set_hash(kHash2);
  req.set_db_basename("");
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp)), ErrorReason::kRsyncPrecondition);
  // Traversal in the tmp name or the basename.
  req.set_tmp_name("../../etc/passwd");
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp)), ErrorReason::kInvalidRequest);
  req.set_tmp_name("x");
  req.set_db_basename("../evil.db");
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::CompleteRsync, req, &resp)), ErrorReason::kInvalidRequest);
}

TEST_F(PeerServiceTest, RsyncThenMergeMergesTheUploadInPlace) {
  auto local = CreateContainer(DbFile(), 3, /*first=*/0);
  ASSERT_OK(local->MergeSyncs({SyncRecord{"third", 77, 0}}));
  ASSERT_OK(local->UpdateMetadata(R"({"X-Container-Meta-Local": ["yes", "0000000009.00000"]})"));
  ASSERT_OK(MakeDirs(devices_ + "/sda/tmp"));
  std::string tmp = devices_ + "/sda/tmp/sender-id";
  std::string source_file = NewTmpDir() + "/d/containers/7/85f/" + kHash + "/" + kHash + ".db";
  {
    auto source = CreateContainer(source_file, 4, /*first=*/10);
  }
  ASSERT_OK(RenameDurably(source_file, tmp));
  v1::RsyncThenMergeRequest req;
  *req.mutable_db() = Ref();
  req.set_tmp_name("sender-id");
  v1::RsyncThenMergeResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::RsyncThenMerge, req, &resp));
  EXPECT_EQ(resp.rows_folded(), 4);  // The upload's rows.
  EXPECT_FALSE(PathExists(tmp));
  ASSERT_OK_AND_ASSIGN(auto merged, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, merged->GetReplicationInfo());
  EXPECT_EQ(info.count, 7);
  EXPECT_EQ(info.id, resp.new_id());
  EXPECT_EQ(info.id, local->GetReplicationInfo()->id) << "the database keeps its id";
  ASSERT_OK_AND_ASSIGN(int64_t sender, merged->GetSync("sender-id"));
  EXPECT_EQ(sender, 4);  // The upload's own highest ROWID.
  EXPECT_THAT(info.metadata, ::testing::HasSubstr("Local"));
  ASSERT_OK_AND_ASSIGN(int64_t third, merged->GetSync("third"));
  EXPECT_EQ(third, 77);
  // Preconditions: both files must exist.
  EXPECT_EQ(GetReason(Call(&v1::ReplicationPeer::Stub::RsyncThenMerge, req, &resp)), ErrorReason::kRsyncPrecondition);
}

TEST_F(PeerServiceTest, RsyncThenMergeFoldsOnlyTheRowsAfterTheSendersSyncPoint) {
  auto local = CreateContainer(DbFile(), 3, /*first=*/0);
  ASSERT_OK(MakeDirs(devices_ + "/sda/tmp"));
  std::string source_file = NewTmpDir() + "/d/containers/7/85f/" + kHash + "/" + kHash + ".db";
  std::string sender_id;
  {
    auto source = CreateContainer(source_file, 4, /*first=*/10);
    ASSERT_OK_AND_ASSIGN(ReplicationInfo si, source->GetReplicationInfo());
    sender_id = si.id;
    // The first two rows reached us earlier, as a usync from the sender.
    ASSERT_OK_AND_ASSIGN(ItemBatch first_two, source->GetItemsSince(-1, 2));
    ASSERT_OK(local->MergeItems(first_two, sender_id).status());
  }
  ASSERT_OK_AND_ASSIGN(int64_t held, local->GetSync(sender_id));
  ASSERT_EQ(held, 2);
  const std::string tmp = devices_ + "/sda/tmp/" + sender_id;
  ASSERT_OK(RenameDurably(source_file, tmp));
  v1::RsyncThenMergeRequest req;
  *req.mutable_db() = Ref();
  req.set_tmp_name(sender_id);
  v1::RsyncThenMergeResponse resp;
  ASSERT_OK(Call(&v1::ReplicationPeer::Stub::RsyncThenMerge, req, &resp));
  EXPECT_EQ(resp.rows_folded(), 2) << "the rows after the point only";
  ASSERT_OK_AND_ASSIGN(auto merged, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, merged->GetReplicationInfo());
  EXPECT_EQ(info.count, 7) << "every row of both";
  ASSERT_OK_AND_ASSIGN(int64_t sender, merged->GetSync(sender_id));
  EXPECT_EQ(sender, 4);
}

TEST_F(PeerServiceTest, ConcurrentMergesIntoOneDatabaseLoseNothing) {
  auto local = CreateContainer(DbFile(), 0);
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t, &results] {
      std::vector<ItemBatch> batches;
      for (int b = 0; b < 5; ++b) batches.push_back(Objects(t * 1000 + b * 20, 20));
      results[t] = Merge(Ref(), absl::StrCat("sender", t), batches).status();
    });
  }
  for (auto& th : threads) th.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, local->GetReplicationInfo());
  EXPECT_EQ(info.count, 400);
}

TEST_F(PeerServiceTest, PeerAtCapacityRefusesInsteadOfQueueing) {
  StartPeer(false, /*max_calls=*/1);
  auto local = CreateContainer(DbFile(), 0);
  v1::SyncRequest sreq;
  *sreq.mutable_db() = Ref();
  sreq.set_id("x");
  FillValidSync(&sreq);
  v1::SyncResponse sresp;
  {
    auto busy = service_->limiter().TryAcquire();  // A call in progress.
    ASSERT_OK(busy);
    absl::Status s = Sync(sreq, &sresp);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(GetReason(s), ErrorReason::kPeerAtCapacity);
  }
  EXPECT_OK(Sync(sreq, &sresp));  // The slot is free again.
}

TEST_F(PeerServiceTest, AnIdleStreamHoldsNoSlotAndIsCancelledAfterTheIdleTimeout) {
  StartPeer(false, /*max_calls=*/1, /*idle_timeout=*/absl::Milliseconds(300));
  auto local = CreateContainer(DbFile(), 0);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = stub_->MergeItems(&ctx);
  v1::MergeItemsRequest req;
  *req.mutable_db() = Ref();
  req.set_source_id("s");
  AppendRows(Objects(0, 1), &req);
  ASSERT_TRUE(stream->Write(req));
  v1::MergeItemsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  // Between batches the stream holds nothing: other calls get the one slot.
  v1::SyncRequest sreq;
  *sreq.mutable_db() = Ref();
  sreq.set_id("x");
  FillValidSync(&sreq);
  v1::SyncResponse sresp;
  EXPECT_OK(Sync(sreq, &sresp));
  // A sender that goes quiet is cut off (the next Read ends when the peer
  // gives up on it), with the batch it sent kept.
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_FALSE(stream->Finish().ok());
  ASSERT_OK_AND_ASSIGN(auto b, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(int64_t point, b->GetSync("s"));
  EXPECT_EQ(point, 1);
}

TEST_F(PeerServiceTest, AFullDeviceIsUnavailableBeforeAnythingIsWritten) {
  StartPeer(false, 64, absl::Seconds(60), /*reserve_bytes=*/1e18);  // More than any disk here.
  v1::SyncRequest req;
  *req.mutable_db() = Ref();
  req.set_id("x");
  FillValidSync(&req);
  v1::SyncResponse resp;
  absl::Status s = Sync(req, &resp);
  EXPECT_EQ(GetReason(s), ErrorReason::kDeviceUnavailable) << s;
  EXPECT_FALSE(IsDirectory(devices_ + "/sda/tmp")) << "nothing written";
}

TEST_F(PeerServiceTest, SyncRefusesValuesThatWouldBeStoredForGood) {
  auto local = CreateContainer(DbFile(), 1);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo before, local->GetReplicationInfo());
  auto with = [&](std::function<void(v1::SyncRequest*)> change) {
    v1::SyncRequest req;
    *req.mutable_db() = Ref();
    req.set_id("x");
    FillValidSync(&req);
    change(&req);
    v1::SyncResponse resp;
    return Sync(req, &resp);
  };
  std::vector<std::function<void(v1::SyncRequest*)>> bad = {
      [](v1::SyncRequest* r) { r->set_created_at(""); },
      [](v1::SyncRequest* r) { r->set_put_timestamp("zzzz"); },
      [](v1::SyncRequest* r) { r->set_delete_timestamp(std::string(50, '9')); },
      [](v1::SyncRequest* r) { r->set_put_timestamp("1.5"); },  // Not Swift's form: compares wrong as text.
      [](v1::SyncRequest* r) { r->set_metadata(std::string(8 << 20, ' ')); },
      [](v1::SyncRequest* r) { r->set_hash("xyz"); },
      [](v1::SyncRequest* r) { r->set_max_row(-5); },
      [](v1::SyncRequest* r) { r->set_id(std::string("a\nb")); },
      [](v1::SyncRequest* r) { r->set_id(std::string(300, 'a')); },
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    absl::Status s = with(bad[i]);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << i;
    EXPECT_EQ(GetReason(s), ErrorReason::kInvalidRequest) << i;
  }
  ASSERT_OK_AND_ASSIGN(auto after, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, after->GetReplicationInfo());
  EXPECT_EQ(info.put_timestamp, before.put_timestamp);
  EXPECT_EQ(info.delete_timestamp, before.delete_timestamp);
  EXPECT_EQ(info.created_at, before.created_at);
  // Metadata with a timestamp that is not Swift's is ignored (as undecodable
  // metadata is), not stored.
  EXPECT_OK(with([](v1::SyncRequest* r) { r->set_metadata(R"({"X-Container-Meta-A": ["v", "zzzz"]})"); }));
  ASSERT_OK_AND_ASSIGN(info, after->GetReplicationInfo());
  EXPECT_EQ(info.metadata, before.metadata);
}

TEST_F(PeerServiceTest, RowsTravelAsBytesAndBadRowsFailTheStream) {
  auto local = CreateContainer(DbFile(), 0);
  ItemBatch odd = Objects(0, 1);
  odd.objects[0].name = "caf\xe9\xff";  // Not UTF-8, as an old database may hold.
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> acks, Merge(Ref(), "s", {odd}));
  EXPECT_EQ(acks.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto b, DatabaseBroker::Open(DbType::kContainer, DbFile()));
  ASSERT_OK_AND_ASSIGN(ItemBatch rows, b->GetItemsSince(-1, 10));
  ASSERT_EQ(rows.objects.size(), 1u);
  EXPECT_EQ(rows.objects[0].name, "caf\xe9\xff");
  ItemBatch bad = Objects(5, 1);
  bad.objects[0].created_at = "zzzz";
  absl::StatusOr<std::vector<int64_t>> r = Merge(Ref(), "s", {bad});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(GetReason(r.status()), ErrorReason::kInvalidRequest);
}

TEST_F(PeerServiceTest, CorruptDatabaseIsQuarantinedAndAnsweredAsMissing) {
  { auto local = CreateContainer(DbFile(), 2); }
  {
    std::ofstream out(DbFile(), std::ios::binary | std::ios::trunc);
    out << "this is not a sqlite database, just garbage bytes that fill a page ..........";
  }
  v1::SyncRequest req;
  *req.mutable_db() = Ref();
  req.set_id("x");
  FillValidSync(&req);
  v1::SyncResponse resp;
  absl::Status s = Sync(req, &resp);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(GetReason(s), ErrorReason::kDbQuarantined);
  EXPECT_FALSE(PathExists(DbFile()));
  EXPECT_TRUE(IsDirectory(devices_ + "/sda/quarantined/containers/" + kHash));
}

}  // namespace
}  // namespace dbrepl::peer
