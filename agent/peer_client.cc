#include "agent/peer_client.h"

namespace dbrepl::agent {

std::vector<absl::StatusOr<v1::SyncPartitionResponse>> PeerClient::SyncPartitions(
    const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions) {
  std::vector<absl::StatusOr<v1::SyncPartitionResponse>> results;
  results.reserve(partitions.size());
  for (const v1::SyncPartitionRequest& p : partitions) results.push_back(SyncPartition(peer, p));
  return results;
}

}  // namespace dbrepl::agent
