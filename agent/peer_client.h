// PeerClient: the agent's side of dbrepl.v1.ReplicationPeer, as an interface
// so that the replicator's decisions can be tested against a fake peer that
// fails on demand; GrpcPeerClient (grpc_peer_client.h) is the real one.
//
// Errors come back as absl::Status with the peer's ErrorReason restored
// (common/rpc/grpc_status.h): IsDbMissing() -> ship the file with rsync;
// IsDeviceUnavailable() -> try the next handoff node; PEER_AT_CAPACITY ->
// back off and retry later.
//
// Thread-safe: any number of databases may be in flight to the same peer.
#ifndef DBREPL_AGENT_PEER_CLIENT_H_
#define DBREPL_AGENT_PEER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/records.h"
#include "dbrepl/v1/peer.pb.h"

namespace dbrepl::agent {

// Where a peer listens.
struct PeerAddress {
  std::string ip;
  int port = 0;
  std::string ToString() const;
};

struct UsyncResult {
  int64_t point = -1;     // Last ROWID the peer acknowledged.
  int64_t batches = 0;    // Batches acknowledged.
  int64_t rows_sent = 0;  // Rows in acknowledged batches.
  bool capped = false;    // Stopped at max_diffs with rows left.
  bool syncs_merged = false;  // The peer merged the `syncs` given to MergeItems.
};

// Up to `count` rows with ROWID > `after`, ascending (DatabaseBroker::
// GetItemsSince).
using RowSource = std::function<absl::StatusOr<ItemBatch>(int64_t after, int count)>;

class PeerClient {
 public:
  virtual ~PeerClient() = default;

  // Swift's `sync`: the handshake.
  virtual absl::StatusOr<v1::SyncResponse> Sync(const PeerAddress& peer, const v1::DbRef& ref,
                                                const ReplicationInfo& info) = 0;

  // The partition handshake (peer.proto SyncPartition).
  virtual absl::StatusOr<v1::SyncPartitionResponse> SyncPartition(const PeerAddress& peer,
                                                                  const v1::SyncPartitionRequest& request) = 0;

  // Many partition handshakes in one round trip (peer.proto SyncPartitions):
  // one result per entry of `partitions`, in order, each what SyncPartition
  // would have returned; an error of the whole call (unreachable, at
  // capacity) is every entry's. This default asks SyncPartition once per
  // partition, as a peer without SyncPartitions needs.
  virtual std::vector<absl::StatusOr<v1::SyncPartitionResponse>> SyncPartitions(
      const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions);

  // The states of databases on the agent's own node (peer.proto
  // ReadStates), from the peer there. This default is UNIMPLEMENTED (the
  // caller reads them itself).
  virtual absl::StatusOr<v1::ReadStatesResponse> ReadStates(const PeerAddress& peer,
                                                           const v1::ReadStatesRequest& request);

  // Swift's usync loop, streamed: sends the rows `rows` gives after `point`,
  // `per_diff` a batch, at most `max_diffs` batches, with `source_id` as the
  // sender id; each batch must be acknowledged within node_timeout. On
  // success or cap, returns how far the peer acknowledged. On a broken
  // stream, returns the error; `*acked` (if not null) still says how far the
  // peer got, so the caller can record that progress. `syncs` (if not
  // null) go in a last message once every row was sent (never when capped);
  // syncs_merged says whether the peer merged them (else call MergeSyncs).
  virtual absl::StatusOr<UsyncResult> MergeItems(const PeerAddress& peer, const v1::DbRef& ref,
                                                 const RowSource& rows, int64_t point, const std::string& source_id,
                                                 int per_diff, int max_diffs, UsyncResult* acked,
                                                 const std::vector<SyncRecord>* syncs = nullptr) = 0;

  // Swift's merge_syncs: the peer raises its incoming sync points.
  virtual absl::Status MergeSyncs(const PeerAddress& peer, const v1::DbRef& ref,
                                  const std::vector<SyncRecord>& syncs) = 0;

  // Install tmp/<tmp_name> as the database (complete_rsync), or merge it in
  // (rsync_then_merge). Return the new id.
  virtual absl::StatusOr<std::string> CompleteRsync(const PeerAddress& peer, const v1::DbRef& ref,
                                                    const std::string& tmp_name, const std::string& db_basename,
                                                    absl::Duration timeout) = 0;
  // Many installs in one call (peer.proto CompleteRsyncBatch).
  virtual absl::StatusOr<v1::CompleteRsyncBatchResponse> CompleteRsyncBatch(
      const PeerAddress& peer, const v1::CompleteRsyncBatchRequest& request, absl::Duration timeout) = 0;
  virtual absl::StatusOr<std::string> RsyncThenMerge(const PeerAddress& peer, const v1::DbRef& ref,
                                                     const std::string& tmp_name, const std::string& db_basename,
                                                     absl::Duration timeout) = 0;
  // The peer's read-only listing (InspectReplicas), whole: for the dry run.
  virtual absl::StatusOr<std::vector<v1::InspectedReplica>> InspectReplicas(const PeerAddress& peer,
                                                                            const v1::InspectReplicasRequest& request,
                                                                            absl::Duration timeout) = 0;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_PEER_CLIENT_H_
