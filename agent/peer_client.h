// PeerClient: the agent's side of dbrepl.v1.ReplicationPeer.
//
// One gRPC channel per peer node (replication_ip:replication_port), created
// on first use and reused for every database, so a pass over a million
// databases opens a handful of connections instead of a million (Swift opens
// one HTTP connection per database and peer). Keepalive matches the server
// (common/server/grpc_server.h): the client pings every 30 s, which the
// server permits. Each unary call has the `node_timeout` deadline (Swift's);
// a MergeItems stream gets node_timeout per batch.
//
// Errors come back as absl::Status with the peer's ErrorReason restored
// (common/rpc/grpc_status.h): IsDbMissing() -> ship the file with rsync;
// IsDeviceUnavailable() -> try the next handoff node.
//
// Thread-safe: any number of databases may be in flight to the same peer.
#ifndef DBREPL_AGENT_PEER_CLIENT_H_
#define DBREPL_AGENT_PEER_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/broker.h"
#include "common/db/records.h"
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

// Where a peer listens.
struct PeerAddress {
  std::string ip;
  int port = 0;
  std::string ToString() const;
};

struct UsyncResult {
  int64_t point = -1;        // Last ROWID the peer acknowledged.
  int64_t batches = 0;       // Batches acknowledged.
  int64_t rows_sent = 0;     // Rows in acknowledged batches.
  bool capped = false;       // Stopped at max_diffs with rows left.
};

class PeerClient {
 public:
  explicit PeerClient(PeerClientOptions options);

  // Swift's `sync`: the handshake.
  absl::StatusOr<v1::SyncResponse> Sync(const PeerAddress& peer, const v1::DbRef& ref, const ReplicationInfo& info);

  // Swift's usync loop, streamed: sends rows of `broker` with ROWID > point,
  // `per_diff` rows a batch, at most `max_diffs` batches, with `source_id` as
  // the sender id. On success or cap, returns how far the peer acknowledged.
  // On a broken stream, returns the error; `*acked` (if not null) still says
  // how far the peer got, so the caller can record that progress.
  absl::StatusOr<UsyncResult> MergeItems(const PeerAddress& peer, const v1::DbRef& ref, DatabaseBroker& broker,
                                         int64_t point, const std::string& source_id, int per_diff, int max_diffs,
                                         UsyncResult* acked = nullptr);

  absl::Status MergeSyncs(const PeerAddress& peer, const v1::DbRef& ref, const std::vector<SyncRecord>& syncs);

  absl::StatusOr<std::string> CompleteRsync(const PeerAddress& peer, const v1::DbRef& ref,
                                            const std::string& tmp_name, const std::string& db_basename,
                                            absl::Duration timeout);
  absl::StatusOr<std::string> RsyncThenMerge(const PeerAddress& peer, const v1::DbRef& ref,
                                             const std::string& tmp_name, const std::string& db_basename,
                                             absl::Duration timeout);

  // Number of channels opened so far (one per distinct peer address).
  int channel_count() const;

 private:
  v1::ReplicationPeer::Stub* StubFor(const PeerAddress& peer);
  void Prepare(grpc::ClientContext* ctx, absl::Duration timeout) const;

  const PeerClientOptions options_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<v1::ReplicationPeer::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_PEER_CLIENT_H_
