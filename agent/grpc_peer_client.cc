#include "agent/grpc_peer_client.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/rpc/client_credentials.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "grpcpp/security/credentials.h"

namespace dbrepl::agent {

absl::StatusOr<std::unique_ptr<GrpcPeerClient>> GrpcPeerClient::Create(PeerClientOptions options) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                   ClientChannelCredentials(ClientTlsFiles{options.tls_ca_file, options.tls_cert_file,
                                                           options.tls_key_file}));
  return std::unique_ptr<GrpcPeerClient>(new GrpcPeerClient(std::move(options), std::move(credentials)));
}

GrpcPeerClient::GrpcPeerClient(PeerClientOptions options, std::shared_ptr<grpc::ChannelCredentials> credentials)
    : options_(std::move(options)), credentials_(std::move(credentials)) {}

v1::ReplicationPeer::Stub* GrpcPeerClient::StubFor(const PeerAddress& peer) {
  std::string target = peer.ToString();
  absl::MutexLock lock(&mu_);
  auto it = stubs_.find(target);
  if (it != stubs_.end()) return it->second.get();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  // Keepalive within what the peer permits (it accepts pings every 10 s).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Reconnect quickly after a peer restarts; connect attempts are bounded by
  // conn_timeout-ish backoff.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::max<int64_t>(100, absl::ToInt64Milliseconds(options_.conn_timeout))));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  auto channel = grpc::CreateCustomChannel(target, credentials_, args);
  auto stub = v1::ReplicationPeer::NewStub(channel);
  auto* raw = stub.get();
  stubs_.emplace(target, std::move(stub));
  VLOG(1) << "opened channel to peer " << target;
  return raw;
}

int GrpcPeerClient::channel_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(stubs_.size());
}

void GrpcPeerClient::Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::StatusOr<v1::SyncResponse> GrpcPeerClient::Sync(const PeerAddress& peer, const v1::DbRef& ref,
                                                  const ReplicationInfo& info) {
  v1::SyncRequest req;
  *req.mutable_db() = ref;
  req.set_max_row(info.max_row);
  req.set_hash(info.hash);
  req.set_id(info.id);
  req.set_created_at(info.created_at);
  req.set_put_timestamp(info.put_timestamp);
  req.set_delete_timestamp(info.delete_timestamp);
  req.set_metadata(info.metadata);
  if (ref.type() == v1::CONTAINER) {
    v1::PolicyInfo* p = req.mutable_policy();
    p->set_storage_policy_index(info.storage_policy_index);
    p->set_status_changed_at(info.status_changed_at);
    p->set_object_count(info.count);
  }
  v1::SyncResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.node_timeout);
  grpc::Status s = StubFor(peer)->Sync(&ctx, req, &resp);
  RETURN_IF_ERROR(FromGrpcStatus(s, ctx));
  return resp;
}

absl::StatusOr<v1::SyncPartitionResponse> GrpcPeerClient::SyncPartition(const PeerAddress& peer,
                                                                        const v1::SyncPartitionRequest& request) {
  v1::SyncPartitionResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.node_timeout);
  RETURN_IF_ERROR(FromGrpcStatus(StubFor(peer)->SyncPartition(&ctx, request, &resp), ctx));
  if (resp.dbs_size() != request.dbs_size()) {
    return absl::InternalError(absl::StrCat("SyncPartition to ", peer.ToString(), ": ", resp.dbs_size(),
                                            " answers for ", request.dbs_size(), " databases"));
  }
  return resp;
}

std::vector<absl::StatusOr<v1::SyncPartitionResponse>> GrpcPeerClient::SyncPartitions(
    const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions) {
  const std::string target = peer.ToString();
  {
    absl::MutexLock lock(&mu_);
    if (without_sync_partitions_.count(target) > 0) return PeerClient::SyncPartitions(peer, partitions);
  }
  v1::SyncPartitionsRequest request;
  int64_t dbs = 0;
  for (const v1::SyncPartitionRequest& p : partitions) {
    *request.add_partitions() = p;
    dbs += p.dbs_size();
  }
  v1::SyncPartitionsResponse resp;
  grpc::ClientContext ctx;
  // A cold peer reads every database named: allow for that beyond one call.
  Prepare(&ctx, options_.node_timeout * (1 + static_cast<int>(dbs / 1000)));
  absl::Status status = FromGrpcStatus(StubFor(peer)->SyncPartitions(&ctx, request, &resp), ctx);
  if (status.code() == absl::StatusCode::kUnimplemented) {
    LOG(INFO) << "peer " << target << " has no SyncPartitions; asking partition by partition";
    {
      absl::MutexLock lock(&mu_);
      without_sync_partitions_.insert(target);
    }
    return PeerClient::SyncPartitions(peer, partitions);
  }
  if (status.ok() && resp.partitions_size() != request.partitions_size()) {
    status = absl::InternalError(absl::StrCat("SyncPartitions to ", target, ": ", resp.partitions_size(),
                                              " answers for ", request.partitions_size(), " partitions"));
  }
  std::vector<absl::StatusOr<v1::SyncPartitionResponse>> results;
  results.reserve(partitions.size());
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (!status.ok()) {
      results.push_back(status);
      continue;
    }
    v1::PartitionHandshake* h = resp.mutable_partitions(static_cast<int>(i));
    if (h->code() != 0) {
      results.push_back(FromStatusFields(h->code(), h->reason(), h->message()));
    } else if (h->answer().dbs_size() != partitions[i].dbs_size()) {
      results.push_back(absl::InternalError(absl::StrCat("SyncPartitions to ", target, ": ", h->answer().dbs_size(),
                                                         " answers for ", partitions[i].dbs_size(), " databases")));
    } else {
      results.push_back(std::move(*h->mutable_answer()));
    }
  }
  return results;
}

absl::StatusOr<v1::ReadStatesResponse> GrpcPeerClient::ReadStates(const PeerAddress& peer,
                                                                  const v1::ReadStatesRequest& request) {
  v1::ReadStatesResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.node_timeout * (1 + request.dbs_size() / 1000));
  RETURN_IF_ERROR(FromGrpcStatus(StubFor(peer)->ReadStates(&ctx, request, &resp), ctx));
  if (resp.dbs_size() != request.dbs_size()) {
    return absl::InternalError(absl::StrCat("ReadStates to ", peer.ToString(), ": ", resp.dbs_size(),
                                            " answers for ", request.dbs_size(), " databases"));
  }
  return resp;
}

absl::StatusOr<UsyncResult> GrpcPeerClient::MergeItems(const PeerAddress& peer, const v1::DbRef& ref,
                                                       const RowSource& rows, int64_t point,
                                                       const std::string& source_id, int per_diff, int max_diffs,
                                                       UsyncResult* acked, const std::vector<SyncRecord>* syncs) {
  UsyncResult result;
  result.point = point;
  grpc::ClientContext ctx;
  // A backstop for the whole stream; each batch gets node_timeout from the
  // watchdog.
  Prepare(&ctx, options_.node_timeout * (max_diffs + 1));
  auto stream = StubFor(peer)->MergeItems(&ctx);
  auto arm = [&](absl::Time due) { watchdog_.Arm(&ctx, due, [&ctx] { ctx.TryCancel(); }); };
  struct DisarmOnExit {
    Watchdog* w;
    grpc::ClientContext* ctx;
    ~DisarmOnExit() { w->Disarm(ctx); }
  } disarm{&watchdog_, &ctx};

  // Messages written but not yet acknowledged.
  struct InFlight {
    int64_t point;  // The last ROWID sent so far.
    int64_t rows;   // In this message.
    bool syncs;     // It carries the sync table.
  };
  std::deque<InFlight> in_flight;
  bool syncs_sent = false;
  int sent = 0;
  int64_t next_point = point;
  bool more = true;
  bool stalled = false;
  absl::Status local_error;
  auto read_ack = [&]() -> bool {
    v1::MergeItemsResponse ack;
    const absl::Time due = absl::Now() + options_.node_timeout;
    arm(due);
    bool ok = stream->Read(&ack);
    watchdog_.Disarm(&ctx);
    if (!ok) {
      stalled = stalled || absl::Now() >= due;
      return false;
    }
    const InFlight& f = in_flight.front();
    if (f.syncs) result.syncs_merged = ack.syncs_merged();
    if (f.rows > 0) {
      result.point = f.point;
      result.rows_sent += f.rows;
      ++result.batches;
    }
    in_flight.pop_front();
    if (acked != nullptr) *acked = result;
    return true;
  };
  bool broken = false;
  while (!broken) {
    // Fill the window.
    while (more && sent < max_diffs && static_cast<int>(in_flight.size()) < options_.merge_window) {
      absl::StatusOr<ItemBatch> batch = rows(next_point, per_diff);
      if (!batch.ok()) {
        local_error = batch.status();
        more = false;
        break;
      }
      if (batch->empty()) {
        more = false;
        break;
      }
      v1::MergeItemsRequest req;
      if (sent == 0) {
        *req.mutable_db() = ref;
        req.set_source_id(source_id);
      }
      AppendRows(*batch, &req);
      // A short batch is the last: nothing followed it when it was read,
      // after the sync table was. The table rides with it, one transaction
      // on the peer for both.
      const bool last = static_cast<int>(batch->size()) < per_diff;
      const bool with_syncs = last && syncs != nullptr && !syncs->empty();
      if (with_syncs) {
        for (const SyncRecord& s : *syncs) ToProto(s, req.add_syncs());
      }
      arm(absl::Now() + options_.node_timeout);
      bool wrote = stream->Write(req);
      watchdog_.Disarm(&ctx);
      if (!wrote) {
        broken = true;
        break;
      }
      next_point = batch->last_rowid();
      in_flight.push_back(InFlight{next_point, static_cast<int64_t>(batch->size()), with_syncs});
      ++sent;
      if (with_syncs) syncs_sent = true;
      if (last) {
        more = false;
        break;
      }
    }
    if (!more && !broken && !syncs_sent && syncs != nullptr && !syncs->empty() && local_error.ok()) {
      // Every row is out: the syncs follow, on the same stream.
      v1::MergeItemsRequest req;
      if (sent == 0) {
        *req.mutable_db() = ref;
        req.set_source_id(source_id);
      }
      for (const SyncRecord& s : *syncs) ToProto(s, req.add_syncs());
      arm(absl::Now() + options_.node_timeout);
      bool wrote = stream->Write(req);
      watchdog_.Disarm(&ctx);
      if (!wrote) break;
      syncs_sent = true;
      in_flight.push_back(InFlight{next_point, 0, true});
    }
    if (broken || in_flight.empty()) break;
    if (!read_ack()) broken = true;
  }
  stream->WritesDone();
  while (!broken && !in_flight.empty()) {
    if (!read_ack()) broken = true;
  }
  absl::Status status = FromGrpcStatus(stream->Finish(), ctx);
  if (!local_error.ok()) return local_error;
  if (stalled) {
    return absl::DeadlineExceededError(absl::StrCat("MergeItems to ", peer.ToString(), ": a batch was not acknowledged within ",
                                                    absl::FormatDuration(options_.node_timeout)));
  }
  if (!status.ok()) return status;
  if (broken || !in_flight.empty()) {
    return absl::UnavailableError(absl::StrCat("MergeItems stream to ", peer.ToString(), " ended early"));
  }
  // Capped: we stopped at max_diffs and rows remain.
  if (sent >= max_diffs && more) {
    absl::StatusOr<ItemBatch> rest = rows(next_point, 1);
    result.capped = rest.ok() && !rest->empty();
  }
  return result;
}

absl::Status GrpcPeerClient::MergeSyncs(const PeerAddress& peer, const v1::DbRef& ref,
                                    const std::vector<SyncRecord>& syncs) {
  v1::MergeSyncsRequest req;
  *req.mutable_db() = ref;
  for (const SyncRecord& s : syncs) ToProto(s, req.add_syncs());
  v1::MergeSyncsResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.node_timeout);
  return FromGrpcStatus(StubFor(peer)->MergeSyncs(&ctx, req, &resp), ctx);
}

absl::StatusOr<std::string> GrpcPeerClient::CompleteRsync(const PeerAddress& peer, const v1::DbRef& ref,
                                                      const std::string& tmp_name, const std::string& db_basename,
                                                      absl::Duration timeout) {
  v1::CompleteRsyncRequest req;
  *req.mutable_db() = ref;
  req.set_tmp_name(tmp_name);
  req.set_db_basename(db_basename);
  v1::CompleteRsyncResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, timeout);
  RETURN_IF_ERROR(FromGrpcStatus(StubFor(peer)->CompleteRsync(&ctx, req, &resp), ctx));
  return resp.new_id();
}

absl::StatusOr<v1::CompleteRsyncBatchResponse> GrpcPeerClient::CompleteRsyncBatch(
    const PeerAddress& peer, const v1::CompleteRsyncBatchRequest& request, absl::Duration timeout) {
  v1::CompleteRsyncBatchResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, timeout);
  RETURN_IF_ERROR(FromGrpcStatus(StubFor(peer)->CompleteRsyncBatch(&ctx, request, &resp), ctx));
  if (resp.results_size() != request.installs_size()) {
    return absl::InternalError(absl::StrCat("CompleteRsyncBatch to ", peer.ToString(), ": ", resp.results_size(),
                                            " results for ", request.installs_size(), " installs"));
  }
  return resp;
}

absl::StatusOr<std::string> GrpcPeerClient::RsyncThenMerge(const PeerAddress& peer, const v1::DbRef& ref,
                                                       const std::string& tmp_name, const std::string& db_basename,
                                                       absl::Duration timeout) {
  v1::RsyncThenMergeRequest req;
  *req.mutable_db() = ref;
  req.set_tmp_name(tmp_name);
  req.set_db_basename(db_basename);
  v1::RsyncThenMergeResponse resp;
  grpc::ClientContext ctx;
  Prepare(&ctx, timeout);
  RETURN_IF_ERROR(FromGrpcStatus(StubFor(peer)->RsyncThenMerge(&ctx, req, &resp), ctx));
  return resp.new_id();
}

absl::StatusOr<std::vector<v1::InspectedReplica>> GrpcPeerClient::InspectReplicas(
    const PeerAddress& peer, const v1::InspectReplicasRequest& request, absl::Duration timeout) {
  grpc::ClientContext ctx;
  Prepare(&ctx, timeout);
  auto reader = StubFor(peer)->InspectReplicas(&ctx, request);
  std::vector<v1::InspectedReplica> out;
  v1::InspectedReplica r;
  while (reader->Read(&r)) out.push_back(r);
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish(), ctx));
  return out;
}

}  // namespace dbrepl::agent
