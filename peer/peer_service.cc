#include "peer/peer_service.h"

namespace dbrepl::peer {
namespace {

grpc::Status NotYet(const char* method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      std::string("dbrepl.v1.ReplicationPeer/") + method + " is not implemented in this build");
}

}  // namespace

grpc::Status PeerService::Sync(grpc::ServerContext*, const v1::SyncRequest*, v1::SyncResponse*) {
  return NotYet("Sync");
}
grpc::Status PeerService::MergeItems(grpc::ServerContext*,
                                     grpc::ServerReaderWriter<v1::MergeItemsResponse, v1::MergeItemsRequest>*) {
  return NotYet("MergeItems");
}
grpc::Status PeerService::MergeSyncs(grpc::ServerContext*, const v1::MergeSyncsRequest*, v1::MergeSyncsResponse*) {
  return NotYet("MergeSyncs");
}
grpc::Status PeerService::CompleteRsync(grpc::ServerContext*, const v1::CompleteRsyncRequest*,
                                        v1::CompleteRsyncResponse*) {
  return NotYet("CompleteRsync");
}
grpc::Status PeerService::RsyncThenMerge(grpc::ServerContext*, const v1::RsyncThenMergeRequest*,
                                         v1::RsyncThenMergeResponse*) {
  return NotYet("RsyncThenMerge");
}

}  // namespace dbrepl::peer
