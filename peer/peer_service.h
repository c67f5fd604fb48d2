// PeerService: the dbrepl.v1.ReplicationPeer gRPC service (Swift's
// ReplicatorRpc behind the REPLICATE verb). The contract is in
// proto/dbrepl/v1/peer.proto; the semantics live in ReplicatorRpc. This class
// is the service edge: it admits calls (bounded, RESOURCE_EXHAUSTED when
// full), validates every argument before touching the disk, bounds batches,
// applies deadlines, logs each failure with device/partition/hash and the
// caller, counts outcomes, and converts absl::Status to gRPC in one place
// (common/rpc/grpc_status.h).
//
// Thread-safe: gRPC calls the methods concurrently.
#ifndef DBREPL_PEER_PEER_SERVICE_H_
#define DBREPL_PEER_PEER_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/hash_path.h"
#include "dbrepl/v1/peer.grpc.pb.h"
#include "common/rpc/watchdog.h"
#include "peer/concurrency_limiter.h"
#include "peer/db_locator.h"
#include "peer/peer_metrics.h"
#include "peer/replicator_rpc.h"

namespace dbrepl::peer {

struct PeerServiceOptions {
  std::string devices = "/srv/node";
  bool mount_check = true;
  // Swift's fallocate_reserve (0: off): see DbLocator.
  double fallocate_reserve = 0;
  bool fallocate_reserve_is_percent = true;
  // Calls running at once; more are refused with RESOURCE_EXHAUSTED.
  int max_concurrent_calls = 64;
  // Limits of one MergeItems batch (Swift sends per_diff = 1000 rows).
  int max_batch_rows = 10000;
  int64_t max_batch_bytes = 8 << 20;
  // Used when a call has no deadline of its own.
  absl::Duration default_deadline = absl::Minutes(5);
  // The longest a MergeItems stream may wait for its next batch.
  absl::Duration stream_idle_timeout = absl::Seconds(60);
  absl::Duration busy_timeout = absl::Seconds(25);
  // The cluster's [swift-hash] secrets (from swift.conf), if known: needed
  // by ReadStates, which the agent on this node calls.
  absl::optional<HashPathConfig> hash_config;
};

class PeerService final : public v1::ReplicationPeer::Service {
 public:
  PeerService(PeerServiceOptions options, PeerMetrics* metrics);

  grpc::Status Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                    v1::SyncResponse* response) override;
  grpc::Status SyncPartition(grpc::ServerContext* context, const v1::SyncPartitionRequest* request,
                             v1::SyncPartitionResponse* response) override;
  grpc::Status SyncPartitions(grpc::ServerContext* context, const v1::SyncPartitionsRequest* request,
                              v1::SyncPartitionsResponse* response) override;
  grpc::Status MergeItems(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>* stream) override;
  grpc::Status MergeSyncs(grpc::ServerContext* context, const v1::MergeSyncsRequest* request,
                          v1::MergeSyncsResponse* response) override;
  grpc::Status CompleteRsync(grpc::ServerContext* context, const v1::CompleteRsyncRequest* request,
                             v1::CompleteRsyncResponse* response) override;
  grpc::Status CompleteRsyncBatch(grpc::ServerContext* context, const v1::CompleteRsyncBatchRequest* request,
                                  v1::CompleteRsyncBatchResponse* response) override;
  grpc::Status ReadStates(grpc::ServerContext* context, const v1::ReadStatesRequest* request,
                          v1::ReadStatesResponse* response) override;
  grpc::Status InspectReplicas(grpc::ServerContext* context, const v1::InspectReplicasRequest* request,
                               grpc::ServerWriter<v1::InspectedReplica>* writer) override;
  grpc::Status RsyncThenMerge(grpc::ServerContext* context, const v1::RsyncThenMergeRequest* request,
                              v1::RsyncThenMergeResponse* response) override;

  ReplicatorRpc& rpc() { return rpc_; }
  ConcurrencyLimiter& limiter() { return limiter_; }

 private:
  // Converts, logs and counts the outcome of one call.
  grpc::Status Finish(const char* method, grpc::ServerContext* context, const v1::DbRef& ref,
                      const absl::Status& status);
  absl::Time Deadline(const grpc::ServerContext* context) const;
  // One partition's handshake (SyncPartition, or an entry of SyncPartitions),
  // admission aside.
  absl::Status HandshakePartition(grpc::ServerContext* context, const v1::SyncPartitionRequest& request,
                                  v1::SyncPartitionResponse* response);
  absl::Status MergeItemsStream(grpc::ServerContext* context,
                                grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>* stream,
                                v1::DbRef* ref);

  const PeerServiceOptions options_;
  DbLocator locator_;
  ReplicatorRpc rpc_;
  ConcurrencyLimiter limiter_;
  Watchdog watchdog_;
  PeerMetrics* metrics_;
  // HashPathCheck(hash_config), if set.
  absl::optional<std::string> hash_path_check_;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_PEER_SERVICE_H_
