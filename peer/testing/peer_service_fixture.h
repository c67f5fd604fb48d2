// The in-process fixture of the ReplicationPeer tests: a real server on
// loopback over a fresh devices directory, a stub, and helpers to create
// databases and drive each call (peer_service_test, peer_service_sync_test).
#ifndef DBREPL_PEER_TESTING_PEER_SERVICE_FIXTURE_H_
#define DBREPL_PEER_TESTING_PEER_SERVICE_FIXTURE_H_

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/broker.h"
#include "common/db/state_cache.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "common/server/grpc_server.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "peer/peer_service.h"
#include "sqlite3.h"

namespace dbrepl::peer::testing {

using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::StatusIs;

inline constexpr char kHash[] = "e8fbcd486a77117e2cd3398aa1f9485f";
inline constexpr char kHash2[] = "0123456789abcdef0123456789abcdef";

inline std::string NewTmpDir() {
  static int counter = 0;
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/peer", ++counter, "_", getpid());
  EXPECT_OK(MakeDirs(dir));
  return dir;
}

// The fields a Sync must carry to pass validation, for tests about other
// things.
inline void FillValidSync(v1::SyncRequest* req) {
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
    o.hash_config = hash_config_;
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

  // The peer's [swift-hash] secrets (for ReadStates); set before StartPeer.
  absl::optional<HashPathConfig> hash_config_ = HashPathConfig{"p", "s"};
  std::string devices_;
  PeerMetrics metrics_;
  std::unique_ptr<PeerService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::ReplicationPeer::Stub> stub_;
};

}  // namespace dbrepl::peer::testing

#endif  // DBREPL_PEER_TESTING_PEER_SERVICE_FIXTURE_H_
