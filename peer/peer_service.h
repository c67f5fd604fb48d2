// PeerService: the dbrepl.v1.ReplicationPeer gRPC service (Swift's
// ReplicatorRpc). See proto/dbrepl/v1/peer.proto for the contract.
#ifndef DBREPL_PEER_PEER_SERVICE_H_
#define DBREPL_PEER_PEER_SERVICE_H_

#include "dbrepl/v1/peer.grpc.pb.h"

namespace dbrepl::peer {

class PeerService final : public v1::ReplicationPeer::Service {
 public:
  grpc::Status Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                    v1::SyncResponse* response) override;
  grpc::Status MergeItems(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>* stream) override;
  grpc::Status MergeSyncs(grpc::ServerContext* context, const v1::MergeSyncsRequest* request,
                          v1::MergeSyncsResponse* response) override;
  grpc::Status CompleteRsync(grpc::ServerContext* context, const v1::CompleteRsyncRequest* request,
                             v1::CompleteRsyncResponse* response) override;
  grpc::Status RsyncThenMerge(grpc::ServerContext* context, const v1::RsyncThenMergeRequest* request,
                              v1::RsyncThenMergeResponse* response) override;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_PEER_SERVICE_H_
