#include "agent/peer_client.h"

#include "absl/strings/str_cat.h"

namespace dbrepl::agent {

std::string PeerAddress::ToString() const {
  return ip.find(':') != std::string::npos ? absl::StrCat("[", ip, "]:", port) : absl::StrCat(ip, ":", port);
}

std::vector<absl::StatusOr<v1::SyncPartitionResponse>> PeerClient::SyncPartitions(
    const PeerAddress& peer, const std::vector<v1::SyncPartitionRequest>& partitions) {
  std::vector<absl::StatusOr<v1::SyncPartitionResponse>> results;
  results.reserve(partitions.size());
  for (const v1::SyncPartitionRequest& p : partitions) results.push_back(SyncPartition(peer, p));
  return results;
}

absl::StatusOr<v1::ReadStatesResponse> PeerClient::ReadStates(const PeerAddress& peer,
                                                              const v1::ReadStatesRequest& request) {
  return absl::UnimplementedError(absl::StrCat("no ReadStates to ", peer.ToString()));
}

}  // namespace dbrepl::agent
