// GrpcPeerClient: PeerClient over gRPC.
//
// One channel per peer node (replication_ip:replication_port), created on
// first use and reused for every database, so a pass over a million
// databases opens a handful of connections instead of a million (Swift opens
// one HTTP connection per database and peer). Keepalive matches the server
// (common/server/grpc_server.h): the client pings every 30 s, which the
// server permits. Each unary call has the `node_timeout` deadline (Swift's);
// on a MergeItems stream each batch must be acknowledged within node_timeout
// (a watchdog cancels the stream otherwise), so a stalled peer holds a worker
// for node_timeout, not for the whole stream's length.
//
// Lifecycle: construct, use from any threads, destroy after the last call
// returned. Thread-safe.
#ifndef DBREPL_AGENT_GRPC_PEER_CLIENT_H_
#define DBREPL_AGENT_GRPC_PEER_CLIENT_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "agent/peer_client.h"
#include "common/rpc/watchdog.h"
#include "dbrepl/v1/peer.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace dbrepl::agent {

struct PeerClientOptions {
  absl::Duration node_timeout = absl::Seconds(10);
  absl::Duration conn_timeout = absl::Milliseconds(500);
  // mTLS client credentials (all empty: plaintext).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  // Batches sent ahead of their acknowledgement on a MergeItems stream.
  int merge_window = 2;
};

class GrpcPeerClient final : public PeerClient {
 public:
  // INVALID_ARGUMENT for TLS files that cannot be used
  // (common/rpc/client_credentials.h).
  static absl::StatusOr<std::unique_ptr<GrpcPeerClient>> Create(PeerClientOptions options);

  absl::StatusOr<v1::SyncResponse> Sync(const PeerAddress& peer, const v1::DbRef& ref,
                                        const ReplicationInfo& info) override;
  absl::StatusOr<v1::SyncPartitionResponse> SyncPartition(const PeerAddress& peer,
                                                          const v1::SyncPartitionRequest& request) override;
  // One SyncPartitions call; a peer that answers UNIMPLEMENTED (an older
  // one) is remembered and asked partition by partition from then on.
  std::vector<absl::StatusOr<v1::SyncPartitionResponse>> SyncPartitions(
      const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions) override;
  // One ReadStates call, with node_timeout per 1000 databases.
  absl::StatusOr<v1::ReadStatesResponse> ReadStates(const PeerAddress& peer,
                                                   const v1::ReadStatesRequest& request) override;
  absl::StatusOr<UsyncResult> MergeItems(const PeerAddress& peer, const v1::DbRef& ref, const RowSource& rows,
                                         int64_t point, const std::string& source_id, int per_diff, int max_diffs,
                                         UsyncResult* acked, const std::vector<SyncRecord>* syncs) override;
  absl::Status MergeSyncs(const PeerAddress& peer, const v1::DbRef& ref,
                          const std::vector<SyncRecord>& syncs) override;
  absl::StatusOr<std::string> CompleteRsync(const PeerAddress& peer, const v1::DbRef& ref,
                                            const std::string& tmp_name, const std::string& db_basename,
                                            absl::Duration timeout) override;
  absl::StatusOr<v1::CompleteRsyncBatchResponse> CompleteRsyncBatch(const PeerAddress& peer,
                                                                    const v1::CompleteRsyncBatchRequest& request,
                                                                    absl::Duration timeout) override;
  absl::StatusOr<std::vector<v1::InspectedReplica>> InspectReplicas(const PeerAddress& peer,
                                                                    const v1::InspectReplicasRequest& request,
                                                                    absl::Duration timeout) override;
  absl::StatusOr<std::string> RsyncThenMerge(const PeerAddress& peer, const v1::DbRef& ref,
                                             const std::string& tmp_name, const std::string& db_basename,
                                             absl::Duration timeout) override;

  // Number of channels opened so far (one per distinct peer address).
  int channel_count() const;

 private:
  GrpcPeerClient(PeerClientOptions options, std::shared_ptr<grpc::ChannelCredentials> credentials);
  v1::ReplicationPeer::Stub* StubFor(const PeerAddress& peer);
  void Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const;

  const PeerClientOptions options_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<v1::ReplicationPeer::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
  // Peers (by address) that answered SyncPartitions with UNIMPLEMENTED.
  std::set<std::string> without_sync_partitions_ ABSL_GUARDED_BY(mu_);
  // Cancels a MergeItems stream whose batch is not acknowledged in time.
  Watchdog watchdog_;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_GRPC_PEER_CLIENT_H_
