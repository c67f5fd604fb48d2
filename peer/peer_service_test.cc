// In-process gRPC tests of dbrepl.v1.ReplicationPeer: every operation and
// every error path, against real SQLite files and a real server on loopback.
#include "peer/peer_service.h"

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"
#include "common/rpc/grpc_status.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"
#include "common/server/grpc_server.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sqlite3.h"

namespace dbrepl::peer {
namespace {

using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::StatusIs;

constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";
constexpr char kHash2[] = "0123456789abcdef0123456789abcdef";

std::string NewTmpDir() {
  static int counter = 0;
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/peer", ++counter, "_", getpid());
  EXPECT_OK(MakeDirs(dir));
  return dir;
}

// The fields a Sync must carry to pass validation, for tests about other
// things.
void FillValidSync(v1::SyncRequest* req) {
  req->set_hash("00000000000000000000000000000000");
  req->set_created_at("0000000001.00000");
  req->set_put_timestamp("0");
  req->set_delete_timestamp("0");
}

class PeerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { StartPeer(/*mount_check=*/false, /*max_calls=*/64); }

  void StartPeer(bool mount_check, int max_calls, absl::Duration idle_timeout = absl::Seconds(60),
                 double reserve_bytes = 0) {
    if (server_ != nullptr) server_->Shutdown(absl::ZeroDuration());
    devices_ = NewTmpDir();
    ASSERT_OK(MakeDirs(devices_ + "/sda"));
    PeerServiceOptions o;
    o.devices = devices_;
    o.mount_check = mount_check;
    o.max_concurrent_calls = max_calls;
    o.stream_idle_timeout = idle_timeout;
    o.fallocate_reserve = reserve_bytes;
    o.fallocate_reserve_is_percent = false;
    o.max_batch_rows = 100;
    o.max_batch_bytes = 64 << 10;
    service_ = std::make_unique<PeerService>(o, &metrics_);
    GrpcServerOptions so;
    so.bind_ip = "127.0.0.1";
    so.bind_port = 0;
    server_ = std::make_unique<GrpcServer>(so);
    server_->AddService(service_.get(), "dbrepl.v1.ReplicationPeer");
    ASSERT_OK(server_->Start());
    stub_ = v1::ReplicationPeer::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { server_->Shutdown(absl::ZeroDuration()); }

  v1::DbRef Ref(const std::string& hash = kHash, v1::DbType type = v1::CONTAINER) {
    v1::DbRef ref;
    ref.set_type(type);
    ref.set_device("sda");
    ref.set_partition(7);
    ref.set_hash(hash);
    return ref;
  }

  std::string DbFile(const std::string& hash = kHash, DbType type = DbType::kContainer) {
    return DbFilePath(devices_, "sda", type, 7, hash);
  }

  std::unique_ptr<DatabaseBroker> CreateContainer(const std::string& file, int rows, int first = 0) {
    auto broker = DatabaseBroker::Create(DbType::kContainer, file, "a", "c", "0000000001.00000");
    EXPECT_OK(broker);
    for (int i = first; i < first + rows; ++i) {
      ObjectRecord o;
      o.name = absl::StrCat("o", i);
      o.created_at = absl::StrCat(1700000000 + i, ".00000");
      o.size = i;
      o.content_type = "text/plain";
      o.etag = "etag";
      EXPECT_OK((*broker)->PutObject(o));
    }
    return std::move(*broker);
  }

  // Calls and returns the status with the reason restored from trailers.
  template <typename Req, typename Resp, typename Method>
  absl::Status Call(Method method, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status s = (stub_.get()->*method)(&ctx, req, resp);
    return FromGrpcStatus(s, ctx);
  }

  absl::Status Sync(const v1::SyncRequest& req, v1::SyncResponse* resp) {
    return Call(&v1::ReplicationPeer::Stub::Sync, req, resp);
  }

  v1::SyncRequest SyncRequestFor(const ReplicationInfo& info, const v1::DbRef& ref) {
    v1::SyncRequest req;
    *req.mutable_db() = ref;
    req.set_max_row(info.max_row);
    req.set_hash(info.hash);
    req.set_id(info.id);
    req.set_created_at(info.created_at);
    req.set_put_timestamp(info.put_timestamp);
    req.set_delete_timestamp(info.delete_timestamp);
    req.set_metadata(info.metadata);
    return req;
  }

  // Streams `batches` (each a set of rows) and returns the acks' sync points.
  absl::StatusOr<std::vector<int64_t>> Merge(const v1::DbRef& ref, const std::string& source,
                                             const std::vector<ItemBatch>& batches) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto stream = stub_->MergeItems(&ctx);
    std::vector<int64_t> acks;
    for (size_t i = 0; i < batches.size(); ++i) {
      v1::MergeItemsRequest req;
      if (i == 0) {
        *req.mutable_db() = ref;
        req.set_source_id(source);
      }
      AppendRows(batches[i], &req);
      if (!stream->Write(req)) break;
      v1::MergeItemsResponse ack;
      if (!stream->Read(&ack)) break;
      acks.push_back(ack.sync_point());
    }
    stream->WritesDone();
    absl::Status s = FromGrpcStatus(stream->Finish(), ctx);
    if (!s.ok()) return s;
    return acks;
  }

  static ItemBatch Objects(int first, int count, const std::string& ts_base = "17000000") {
    ItemBatch b;
    for (int i = first; i < first + count; ++i) {
      ObjectRecord o;
      o.rowid = i + 1;
      o.name = absl::StrCat("r", i);
      o.created_at = absl::StrCat(ts_base, absl::StrFormat("%02d", i % 100), ".00000");
      o.size = 1;
      o.content_type = "application/octet-stream";
      o.etag = "e";
      b.objects.push_back(o);
    }
    return b;
  }

  std::string devices_;
  PeerMetrics metrics_;
  std::unique_ptr<PeerService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::ReplicationPeer::Stub> stub_;
};

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

TEST_F(PeerServiceTest, SyncPartitionSaysWhenTimestampsOrRowsDiffer) {
  auto db = CreateContainer(DbFile(kHash), 3);
  ASSERT_OK_AND_ASSIGN(ReplicationInfo info, db->GetReplicationInfo());
  ReplicationInfo newer = info;
  newer.put_timestamp = "0000000099.00000";
  newer.hash = "0123456789abcdef0123456789abcdef";
  v1::SyncPartitionRequest req;
  req.set_type(v1::CONTAINER);
  req.set_device("sda");
  req.set_partition(7);
  *req.add_dbs() = DigestOf(newer, kHash, "sender");
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
  v1::SyncPartitionRequest preq;
  preq.set_type(v1::CONTAINER);
  preq.set_device("sda");
  preq.set_partition(7);
  *preq.add_dbs() = DigestOf(info, kHash, "sender");
  *preq.add_dbs() = DigestOf(info, kHash2, "sender");
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
