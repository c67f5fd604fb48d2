#include "agent/admin_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/grpc_status.h"
#include "common/clock.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

template <typename Request>
absl::StatusOr<PassOverrides> ParseOverrides(const Request& req) {
  PassOverrides o;
  for (absl::string_view d : absl::StrSplit(req.devices(), ',', absl::SkipWhitespace())) {
    if (absl::Status s = ValidateDeviceName(d); !s.ok()) return InvalidRequestError(s.message());
    o.devices.insert(std::string(d));
  }
  for (absl::string_view p : absl::StrSplit(req.partitions(), ',', absl::SkipWhitespace())) {
    absl::StatusOr<int64_t> part = ParsePartition(p);
    if (!part.ok()) return InvalidRequestError(part.status().message());
    o.partitions.insert(*part);
  }
  return o;
}

}  // namespace

void ToProto(const PassProgress& p, v1::PassStatus* out) {
  out->set_start_time(p.start_time);
  out->set_end_time(p.end_time);
  out->set_running(p.running);
  out->set_databases_total(p.databases_total);
  out->set_databases_done(p.databases_done);
  out->set_listing_done(p.listing_done);
  double elapsed = (p.running ? NowSeconds() : p.end_time) - p.start_time;
  double rate = elapsed > 0 ? static_cast<double>(p.databases_done) / elapsed : 0;
  out->set_rate(rate);
  int64_t left = std::max<int64_t>(0, p.databases_total - p.databases_done);
  out->set_eta_seconds(rate > 0 ? static_cast<double>(left) / rate : 0);
  out->set_succeeded(p.succeeded);
  v1::PassStats* s = out->mutable_stats();
  const PassStats& st = p.stats;
  s->set_attempted(st.attempted);
  s->set_success(st.success);
  s->set_failure(st.failure);
  s->set_no_change(st.no_change);
  s->set_hashmatch(st.hashmatch);
  s->set_rsync(st.rsync);
  s->set_diff(st.diff);
  s->set_diff_capped(st.diff_capped);
  s->set_remote_merge(st.remote_merge);
  s->set_remove(st.remove);
  s->set_empty(st.empty);
  s->set_ts_repl(st.ts_repl);
  s->set_deferred(st.deferred);
  s->set_quarantined(st.quarantined);
  s->set_skipped_devices(st.skipped_devices);
  s->set_skipped_sharded(st.skipped_sharded);
  for (const auto& [ip, devs] : st.failure_nodes) {
    for (const auto& [dev, n] : devs) (*s->mutable_failure_nodes())[absl::StrCat(ip, "/", dev)] = n;
  }
}

grpc::Status AdminService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                     v1::GetStatusResponse* response) {
  response->set_type(dbrepl::ToProto(replicator_->options().type));
  ToProto(replicator_->Current(), response->mutable_current());
  ToProto(replicator_->Last(), response->mutable_last());
  response->set_passes_completed(replicator_->passes_completed());
  return grpc::Status::OK;
}

grpc::Status AdminService::RunPass(grpc::ServerContext* context, const v1::RunPassRequest* request,
                                   v1::RunPassResponse* response) {
  absl::StatusOr<PassOverrides> overrides = ParseOverrides(*request);
  if (!overrides.ok()) return ToGrpcStatus(overrides.status(), context);
  bool started = agent_->RunPassNow(*overrides);
  LOG(INFO) << "admin: RunPass from " << context->peer() << (started ? ": started" : ": a pass is already running");
  response->set_started(started);
  ToProto(replicator_->Current(), response->mutable_current());
  return grpc::Status::OK;
}

grpc::Status AdminService::CheckPass(grpc::ServerContext* context, const v1::CheckPassRequest* request,
                                     grpc::ServerWriter<v1::DbCheck>* writer) {
  absl::StatusOr<PassOverrides> overrides = ParseOverrides(*request);
  if (!overrides.ok()) return ToGrpcStatus(overrides.status(), context);
  LOG(INFO) << "admin: CheckPass from " << context->peer();
  int64_t n = 0;
  absl::Status s = replicator_->CheckLocal(*overrides, [&](const v1::DbCheck& c) {
    ++n;
    return !context->IsCancelled() && writer->Write(c);
  });
  if (!s.ok()) LOG(WARNING) << "admin: CheckPass from " << context->peer() << ": " << s;
  VLOG(1) << "admin: CheckPass reported " << n << " databases";
  return ToGrpcStatus(s, context);
}

grpc::Status AdminService::ReplicateDb(grpc::ServerContext* context, const v1::ReplicateDbRequest* request,
                                       v1::ReplicateDbResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    const v1::DbRef& ref = request->db();
    absl::StatusOr<DbType> type = ValidateDbRef(ref);
    if (!type.ok()) return type.status();
    if (*type != replicator_->options().type) {
      return InvalidDbRefError(absl::StrCat("this agent replicates ", ServerType(replicator_->options().type),
                                            " databases"));
    }
    absl::StatusOr<int> node_id = replicator_->LocalDeviceId(ref.device());
    if (!node_id.ok()) return node_id.status();
    std::string db_file = DbFilePath(replicator_->options().devices, ref.device(), *type, ref.partition(), ref.hash());
    if (!PathExists(db_file)) return DbNotFoundError(absl::StrCat("no database ", db_file));
    DbOutcome outcome = replicator_->ReplicateDb(ref.partition(), db_file, *node_id);
    response->set_success(outcome.success);
    response->set_local_action(std::string(LocalActionName(outcome.local_action)));
    response->set_ring_partition(outcome.ring_partition);
    for (const NodeOutcome& n : outcome.peers) {
      v1::PeerOutcome* p = response->add_peers();
      p->set_node(absl::StrCat(n.node.replication_ip, ":", n.node.replication_port, "/", n.node.device));
      p->set_success(n.success);
      p->set_action(std::string(PeerResultName(n.result)));
      p->set_detail(n.detail);
      p->set_rows_sent(n.rows_sent);
      p->set_handoff(n.node.is_handoff());
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) LOG(WARNING) << "admin: ReplicateDb from " << context->peer() << ": " << status;
  return ToGrpcStatus(status, context);
}

}  // namespace dbrepl::agent
