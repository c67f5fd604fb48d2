#include "peer/peer_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/env/env.h"
#include "common/env/file_ops.h"
#include "common/errors.h"
#include "common/paths.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "peer/request_validation.h"

namespace dbrepl::peer {
namespace {

// For log lines: escaped, since an invalid ref is logged too (a device name
// with a newline must not forge a line).
std::string DescribeRef(const v1::DbRef& ref) {
  return absl::StrCat(absl::CHexEscape(ref.device().substr(0, 64)), "/", ref.partition(), "/",
                      absl::CHexEscape(ref.hash().substr(0, 64)));
}

}  // namespace

PeerService::PeerService(PeerServiceOptions options, PeerMetrics* metrics)
    : options_(options),
      locator_(options.devices, options.mount_check, options.fallocate_reserve, options.fallocate_reserve_is_percent),
      rpc_([&options] {
        ReplicatorRpcOptions o;
        o.busy_timeout = options.busy_timeout;
        o.hash_config = options.hash_config;
        return o;
      }()),
      limiter_(options.max_concurrent_calls),
      metrics_(metrics) {
  if (options.hash_config.has_value()) hash_path_check_ = HashPathCheck(*options.hash_config);
}

absl::Time PeerService::Deadline(const grpc::ServerContext* context) const {
  absl::Time d = absl::FromChrono(context->deadline());
  absl::Time fallback = absl::Now() + options_.default_deadline;
  return std::min(d, fallback);
}

grpc::Status PeerService::Finish(const char* method, grpc::ServerContext* context, const v1::DbRef& ref,
                                 const absl::Status& status) {
  if (metrics_ != nullptr) metrics_->CountRequest(method, status);
  if (!status.ok()) {
    // Expected answers (missing database, at capacity) at INFO; the rest
    // are failures worth a warning.
    bool expected = status.code() == absl::StatusCode::kNotFound ||
                    status.code() == absl::StatusCode::kResourceExhausted;
    (expected ? LOG(INFO) : LOG(WARNING))
        << DescribeRef(ref) << " " << method << " from " << context->peer() << ": " << status;
  } else {
    VLOG(1) << DescribeRef(ref) << " " << method << " from " << context->peer() << ": OK";
  }
  return ToGrpcStatus(status, context);
}

grpc::Status PeerService::Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                               v1::SyncResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(request->db()));
    RETURN_IF_ERROR(ValidateSyncRequest(*request));
    RemoteInfo remote;
    remote.max_row = request->max_row();
    remote.hash = request->hash();
    remote.id = request->id();
    remote.created_at = request->created_at();
    remote.put_timestamp = request->put_timestamp();
    remote.delete_timestamp = request->delete_timestamp();
    remote.metadata = request->metadata();
    if (request->has_policy()) {
      remote.policy = PolicyFacts{request->policy().storage_policy_index(), remote.put_timestamp,
                                  remote.delete_timestamp, request->policy().status_changed_at(),
                                  request->policy().object_count()};
    }
    ASSIGN_OR_RETURN(SyncResult result, rpc_.Sync(db, remote, Deadline(context)));
    ToProto(result.info, response->mutable_info());
    response->set_point(result.point);
    return absl::OkStatus();
  }();
  return Finish("Sync", context, request->db(), status);
}

absl::Status PeerService::HandshakePartition(grpc::ServerContext* context, const v1::SyncPartitionRequest& request,
                                             v1::SyncPartitionResponse* response) {
  v1::DbRef ref;
  ref.set_type(request.type());
  ref.set_device(request.device());
  ref.set_partition(request.partition());
  ref.set_hash(request.dbs_size() > 0 ? request.dbs(0).hash() : std::string(32, '0'));
  ASSIGN_OR_RETURN(LocatedDb partition, locator_.Locate(ref));
  RETURN_IF_ERROR(ValidateSyncPartitionRequest(request));
  std::vector<PartitionEntry> entries;
  entries.reserve(request.dbs_size());
  for (const v1::DbDigest& d : request.dbs()) {
    PartitionEntry e;
    e.hash = d.hash();
    e.id = d.id();
    e.max_row = d.max_row();
    e.rows_hash = d.rows_hash();
    std::copy(d.state_digest().begin(), d.state_digest().end(), e.state_digest.begin());
    entries.push_back(std::move(e));
  }
  ASSIGN_OR_RETURN(std::vector<PartitionAnswer> answers, rpc_.SyncPartition(partition, entries, Deadline(context)));
  for (const PartitionAnswer& a : answers) {
    v1::PeerDbState* out = response->add_dbs();
    out->set_presence(a.presence == PartitionAnswer::Presence::kPresent   ? v1::PeerDbState::PRESENT
                      : a.presence == PartitionAnswer::Presence::kMissing ? v1::PeerDbState::MISSING
                                                                          : v1::PeerDbState::PRESENCE_UNKNOWN);
    out->set_id(a.id);
    out->set_max_row(a.max_row);
    out->set_point(a.point);
    out->set_rows_hash_equal(a.rows_hash_equal);
    out->set_state_equal(a.state_equal);
  }
  return absl::OkStatus();
}

grpc::Status PeerService::SyncPartition(grpc::ServerContext* context, const v1::SyncPartitionRequest* request,
                                        v1::SyncPartitionResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    return HandshakePartition(context, *request, response);
  }();
  v1::DbRef ref;  // For the log line: the whole partition.
  ref.set_device(request->device());
  ref.set_partition(request->partition());
  ref.set_hash("*");
  return Finish("SyncPartition", context, ref, status);
}

grpc::Status PeerService::SyncPartitions(grpc::ServerContext* context, const v1::SyncPartitionsRequest* request,
                                         v1::SyncPartitionsResponse* response) {
  v1::DbRef ref;  // For the log line: the first partition's device.
  if (request->partitions_size() > 0) {
    ref.set_device(request->partitions(0).device());
    ref.set_partition(request->partitions(0).partition());
  }
  ref.set_hash("*");
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    if (request->partitions_size() > kMaxHandshakePartitions) {
      return InvalidRequestError(absl::StrCat(request->partitions_size(), " partitions exceed the limit of ",
                                              kMaxHandshakePartitions));
    }
    int64_t dbs = 0;
    for (const v1::SyncPartitionRequest& p : request->partitions()) dbs += p.dbs_size();
    if (dbs > kMaxPartitionDbs) {
      return InvalidRequestError(absl::StrCat(dbs, " databases exceed the limit of ", kMaxPartitionDbs));
    }
    for (const v1::SyncPartitionRequest& p : request->partitions()) {
      v1::PartitionHandshake* out = response->add_partitions();
      absl::Status s = HandshakePartition(context, p, out->mutable_answer());
      if (s.ok()) continue;
      LOG(INFO) << absl::CHexEscape(p.device().substr(0, 64)) << "/" << p.partition()
                << " SyncPartitions entry from " << context->peer() << ": " << s;
      out->clear_answer();
      StatusFields f = ToStatusFields(s);
      out->set_code(f.code);
      out->set_reason(std::move(f.reason));
      out->set_message(std::move(f.message));
    }
    return absl::OkStatus();
  }();
  return Finish("SyncPartitions", context, ref, status);
}

grpc::Status PeerService::ReadStates(grpc::ServerContext* context, const v1::ReadStatesRequest* request,
                                     v1::ReadStatesResponse* response) {
  v1::DbRef ref;
  ref.set_type(request->type());
  ref.set_device(request->device());
  ref.set_partition(request->dbs_size() > 0 ? request->dbs(0).partition() : 0);
  ref.set_hash(request->dbs_size() > 0 ? request->dbs(0).hash() : std::string(32, '0'));
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    if (request->dbs_size() > kMaxPartitionDbs) {
      return InvalidRequestError(absl::StrCat(request->dbs_size(), " databases exceed the limit of ", kMaxPartitionDbs));
    }
    std::vector<std::pair<int64_t, std::string>> dbs;
    dbs.reserve(request->dbs_size());
    for (const v1::ReadStatesRequest::Db& d : request->dbs()) {
      v1::DbRef one = ref;
      one.set_partition(d.partition());
      one.set_hash(d.hash());
      RETURN_IF_ERROR(DbLocator::Validate(one));
      dbs.emplace_back(d.partition(), d.hash());
    }
    ASSIGN_OR_RETURN(LocatedDb device, locator_.Locate(ref));
    if (!hash_path_check_.has_value() || request->hash_path_check() != *hash_path_check_) {
      return absl::FailedPreconditionError(
          hash_path_check_.has_value() ? "the caller's [swift-hash] secrets are not this peer's"
                                       : "this peer has no [swift-hash] config to compute partition keys with");
    }
    ASSIGN_OR_RETURN(std::vector<LocalState> states, rpc_.ReadStates(device, dbs, Deadline(context)));
    for (const LocalState& s : states) {
      v1::LocalDbState* out = response->add_dbs();
      if (!s.status.ok()) {
        StatusFields f = ToStatusFields(s.status);
        out->set_code(f.code);
        out->set_reason(std::move(f.reason));
        out->set_message(std::move(f.message));
        continue;
      }
      ToProto(s.identity, out->mutable_identity());
      ToProto(s.state, out);
    }
    return absl::OkStatus();
  }();
  ref.set_hash("*");
  return Finish("ReadStates", context, ref, status);
}

grpc::Status PeerService::InspectReplicas(grpc::ServerContext* context, const v1::InspectReplicasRequest* request,
                                          grpc::ServerWriter<v1::InspectedReplica>* writer) {
  v1::DbRef ref;
  ref.set_type(request->type());
  ref.set_device(request->device());
  ref.set_partition(request->partitions_size() > 0 ? request->partitions(0) : 0);
  ref.set_hash(request->hashes_size() > 0 ? request->hashes(0) : std::string(32, '0'));
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    ASSIGN_OR_RETURN(LocatedDb device, locator_.Locate(ref));
    std::vector<int64_t> partitions(request->partitions().begin(), request->partitions().end());
    for (int64_t p : partitions) {
      if (p < 0 || p > (int64_t{1} << 32)) return InvalidRequestError(absl::StrCat("partition ", p, " is out of range"));
    }
    std::vector<std::string> hashes(request->hashes().begin(), request->hashes().end());
    for (const std::string& h : hashes) {
      if (absl::Status s = ValidateHash(h); !s.ok()) return InvalidRequestError(absl::StrCat("hashes: ", s.message()));
    }
    if (!hashes.empty() && partitions.size() != 1) {
      return InvalidRequestError("hashes need exactly one partition");
    }
    if (hashes.size() > 10000) return InvalidRequestError("at most 10000 hashes");
    return rpc_.InspectReplicas(device, partitions, hashes, [&](const InspectedReplica& r) {
      if (context->IsCancelled()) return false;
      v1::InspectedReplica out;
      out.set_partition(r.partition);
      out.set_hash(r.hash);
      out.set_state(r.state == InspectedReplica::State::kOk        ? v1::InspectedReplica::OK
                    : r.state == InspectedReplica::State::kSharded ? v1::InspectedReplica::SHARDED
                                                                   : v1::InspectedReplica::UNREADABLE);
      if (!r.info.id.empty()) ToProto(r.info, out.mutable_info());
      for (const SyncRecord& s : r.incoming) {
        v1::SyncPoint* p = out.add_incoming();
        p->set_remote_id(s.remote_id);
        p->set_sync_point(s.sync_point);
        p->set_updated_at(s.updated_at);
      }
      for (const SyncRecord& s : r.outgoing) {
        v1::SyncPoint* p = out.add_outgoing();
        p->set_remote_id(s.remote_id);
        p->set_sync_point(s.sync_point);
        p->set_updated_at(s.updated_at);
      }
      out.set_pending_bytes(r.pending_bytes);
      out.set_detail(r.detail);
      return writer->Write(out);
    });
  }();
  ref.set_hash("*");
  return Finish("InspectReplicas", context, ref, status);
}

absl::Status PeerService::MergeItemsStream(
    grpc::ServerContext* context, grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>* stream,
    v1::DbRef* ref) {
  // Each message must arrive within stream_idle_timeout: a sender that
  // stops sending does not hold this thread for the stream's deadline.
  struct DisarmOnExit {
    Watchdog* w;
    const void* key;
    ~DisarmOnExit() { w->Disarm(key); }
  } disarm{&watchdog_, context};
  auto read = [&](v1::MergeItemsRequest* request) {
    watchdog_.Arm(context, absl::Now() + options_.stream_idle_timeout, [context] { context->TryCancel(); });
    bool ok = stream->Read(request);
    watchdog_.Disarm(context);
    return ok;
  };
  v1::MergeItemsRequest request;
  if (!read(&request)) {
    if (context->IsCancelled()) return absl::DeadlineExceededError("MergeItems: no batch within the idle timeout");
    return absl::OkStatus();  // An empty stream merges nothing.
  }
  *ref = request.db();
  ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(request.db()));
  const std::string source = request.source_id();
  if (!source.empty()) {
    RETURN_IF_ERROR(ValidateDbId(source, "source_id"));
  }
  std::unique_ptr<DatabaseBroker> broker;
  int64_t batches = 0;
  int64_t first_rowid = -1, last_point = -1;  // For the log line at the end.
  std::string syncs_merged;
  do {
    // Admission per batch, not per stream: idle streams hold no slot.
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    if (broker == nullptr) {
      ASSIGN_OR_RETURN(broker, rpc_.OpenForMerge(db, Deadline(context)));
    }
    if (batches > 0) {
      // Later batches may repeat the header, but must not change it.
      if (request.has_db() && (request.db().SerializeAsString() != ref->SerializeAsString())) {
        return InvalidRequestError("MergeItems: a stream merges into one database; db changed mid-stream");
      }
      if (!request.source_id().empty() && request.source_id() != source) {
        return InvalidRequestError("MergeItems: source_id changed mid-stream");
      }
    }
    int rows = request.objects_size() + request.containers_size();
    if (rows > options_.max_batch_rows) {
      return BatchTooLargeError(
          absl::StrCat("batch of ", rows, " rows exceeds the peer's limit of ", options_.max_batch_rows));
    }
    int64_t bytes = static_cast<int64_t>(request.ByteSizeLong());
    if (bytes > options_.max_batch_bytes) {
      return BatchTooLargeError(
          absl::StrCat("batch of ", bytes, " bytes exceeds the peer's limit of ", options_.max_batch_bytes));
    }
    ASSIGN_OR_RETURN(ItemBatch batch, RowsFromRequest(request, db.type));
    RETURN_IF_ERROR(ValidateRows(batch));
    std::vector<SyncRecord> syncs;
    if (request.syncs_size() > kMaxSyncPoints) {
      return InvalidRequestError(absl::StrCat(request.syncs_size(), " sync points exceed the limit of ",
                                              kMaxSyncPoints));
    }
    for (const v1::SyncPoint& s : request.syncs()) {
      RETURN_IF_ERROR(ValidateDbId(s.remote_id(), "remote_id"));
      if (s.sync_point() < -1) return InvalidRequestError("sync_point below -1");
      syncs.push_back(FromProto(s));
    }
    MergeResult merged;
    if (!batch.empty()) {
      // A last batch with the sender's sync table: one transaction for both
      // (Swift's merge_items then merge_syncs, committed together).
      absl::StatusOr<MergeResult> r = broker->MergeItemsAndSyncs(batch, source, syncs);
      if (!r.ok()) {
        if (r.status().code() == absl::StatusCode::kDataLoss) {
          return DbQuarantinedError(absl::StrCat("database ", db.LogName(), " was corrupt and has been quarantined"));
        }
        return r.status();
      }
      merged = *r;
    } else if (!source.empty()) {
      if (broker->HasMoved()) return DbReplacedError(absl::StrCat(db.LogName(), " was replaced; retry"));
      ASSIGN_OR_RETURN(merged.sync_point, broker->GetSync(source, /*incoming=*/true));
    }
    if (!syncs.empty() && batch.empty()) {
      // After the rows, as Swift's sender calls merge_syncs after its usync.
      if (broker->HasMoved()) return DbReplacedError(absl::StrCat(db.LogName(), " was replaced; retry"));
      absl::Status s = broker->MergeSyncs(syncs, /*incoming=*/true);
      if (s.code() == absl::StatusCode::kDataLoss) {
        return DbQuarantinedError(absl::StrCat("database ", db.LogName(), " was corrupt and has been quarantined"));
      }
      RETURN_IF_ERROR(s);
    }
    if (VLOG_IS_ON(1)) {  // Only for the log line: nothing on the hot path otherwise.
      if (first_rowid < 0 && !batch.empty()) {
        first_rowid = !batch.objects.empty() ? batch.objects.front().rowid : batch.containers.front().rowid;
      }
      last_point = merged.sync_point;
      for (const SyncRecord& r : syncs) absl::StrAppend(&syncs_merged, " ", r.remote_id, "=", r.sync_point);
    }
    if (metrics_ != nullptr) metrics_->CountBatch(db.type, merged.rows_applied);
    slot.reset();  // The work is done; waiting for the next batch holds nothing.
    v1::MergeItemsResponse ack;
    ack.set_sync_point(merged.sync_point);
    ack.set_rows_applied(merged.rows_applied);
    ack.set_syncs_merged(!syncs.empty());
    // The batch is committed before it is acknowledged: an ack is a promise.
    if (!stream->Write(ack)) return absl::CancelledError("MergeItems: sender went away");
    ++batches;
  } while (read(&request));
  if (context->IsCancelled()) return absl::DeadlineExceededError("MergeItems: no batch within the idle timeout");
  VLOG(1) << db.LogName() << ": merged " << batches << " batches from " << source << ", rows " << first_rowid
          << ".." << last_point << (syncs_merged.empty() ? "" : "; its sync table:") << syncs_merged;
  rpc_.AfterMerge(db, std::move(broker));
  return absl::OkStatus();
}

grpc::Status PeerService::MergeItems(
    grpc::ServerContext* context, grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>* stream) {
  v1::DbRef ref;
  absl::Status status = MergeItemsStream(context, stream, &ref);
  return Finish("MergeItems", context, ref, status);
}

grpc::Status PeerService::MergeSyncs(grpc::ServerContext* context, const v1::MergeSyncsRequest* request,
                                     v1::MergeSyncsResponse*) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(request->db()));
    if (request->syncs_size() > kMaxSyncPoints) {
      return InvalidRequestError(absl::StrCat(request->syncs_size(), " sync points exceed the limit of ",
                                              kMaxSyncPoints));
    }
    std::vector<SyncRecord> syncs;
    for (const v1::SyncPoint& s : request->syncs()) {
      RETURN_IF_ERROR(ValidateDbId(s.remote_id(), "remote_id"));
      if (s.sync_point() < -1) return InvalidRequestError("sync_point below -1");
      syncs.push_back(FromProto(s));
    }
    return rpc_.MergeSyncs(db, syncs, Deadline(context));
  }();
  return Finish("MergeSyncs", context, request->db(), status);
}

grpc::Status PeerService::CompleteRsync(grpc::ServerContext* context, const v1::CompleteRsyncRequest* request,
                                        v1::CompleteRsyncResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(request->db()));
    ASSIGN_OR_RETURN(std::string new_id,
                     rpc_.CompleteRsync(db, request->tmp_name(), request->db_basename(), Deadline(context)));
    response->set_new_id(new_id);
    return absl::OkStatus();
  }();
  return Finish("CompleteRsync", context, request->db(), status);
}

grpc::Status PeerService::CompleteRsyncBatch(grpc::ServerContext* context,
                                             const v1::CompleteRsyncBatchRequest* request,
                                             v1::CompleteRsyncBatchResponse* response) {
  v1::DbRef ref;
  if (request->installs_size() > 0) ref = request->installs(0).db();
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    if (request->installs_size() > kMaxInstallBatch) {
      return InvalidRequestError(absl::StrCat(request->installs_size(), " installs exceed the limit of ",
                                              kMaxInstallBatch));
    }
    // The installs' directory fsyncs, each directory once, before answering.
    DeferredDirSyncs dir_syncs;
    for (const v1::CompleteRsyncRequest& install : request->installs()) {
      absl::StatusOr<std::string> new_id = [&]() -> absl::StatusOr<std::string> {
        ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(install.db()));
        return rpc_.CompleteRsync(db, install.tmp_name(), install.db_basename(), Deadline(context), &dir_syncs);
      }();
      if (metrics_ != nullptr) metrics_->CountRequest("CompleteRsync", new_id.status());
      v1::InstallResult* r = response->add_results();
      if (new_id.ok()) {
        r->set_new_id(*new_id);
        continue;
      }
      LOG(INFO) << DescribeRef(install.db()) << " CompleteRsyncBatch entry from " << context->peer() << ": "
                << new_id.status();
      StatusFields f = ToStatusFields(new_id.status());
      r->set_code(f.code);
      r->set_reason(std::move(f.reason));
      r->set_message(std::move(f.message));
    }
    // Not durable, not installed as far as the sender may know: it tries
    // again next pass and finds what is there.
    if (absl::Status synced = dir_syncs.Flush(Env::Default()); !synced.ok()) {
      response->Clear();
      return absl::UnavailableError(absl::StrCat("making the installs durable: ", synced.message()));
    }
    return absl::OkStatus();
  }();
  return Finish("CompleteRsyncBatch", context, ref, status);
}

grpc::Status PeerService::RsyncThenMerge(grpc::ServerContext* context, const v1::RsyncThenMergeRequest* request,
                                         v1::RsyncThenMergeResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto slot, limiter_.TryAcquire());
    ASSIGN_OR_RETURN(LocatedDb db, locator_.Locate(request->db()));
    ASSIGN_OR_RETURN(RsyncThenMergeResult result, rpc_.RsyncThenMerge(db, request->tmp_name(), Deadline(context)));
    response->set_new_id(result.new_id);
    response->set_rows_folded(result.rows_folded);
    return absl::OkStatus();
  }();
  return Finish("RsyncThenMerge", context, request->db(), status);
}

}  // namespace dbrepl::peer
