// The consistency check of one database's replicas, shared by `dbreplctl
// check` and the agent's CheckPass: given what each ring device's peer said
// it holds (InspectReplicas), how the replicas differ and what the next pass
// would do, by Swift's decisions (common/replication/plan.h). Pure: no I/O;
// AskEveryDevice does the asking through a caller's function.
//
//   ReplicaInventory inv = AskEveryDevice(ring, DbType::kContainer, {12}, {}, ask);
//   for (const auto& [key, held] : inv.found) {
//     v1::DbCheck c = JudgeReplicas(ring, key.first, key.second, held, /*per_diff=*/1000);
//   }
//
// Thread-safe (pure functions).
#ifndef DBREPL_COMMON_RPC_REPLICA_CHECK_H_
#define DBREPL_COMMON_RPC_REPLICA_CHECK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db_type.h"
#include "common/ring/ring.h"
#include "dbrepl/v1/check.pb.h"
#include "dbrepl/v1/peer.pb.h"

namespace dbrepl {

// Replicas by (partition, hash), then by ring device id.
using ReplicaMap = std::map<std::pair<int64_t, std::string>, std::map<int, v1::InspectedReplica>>;

struct ReplicaInventory {
  ReplicaMap found;
  // "<device> (<ip:port>): <error>" of each device that could not be asked.
  std::vector<std::string> unreachable;
};

// Asks every device of the ring (a copy may be on any handoff) for what it
// holds of `partitions` (all when empty), only `hashes` when given, through
// `ask` (one InspectReplicas call to that device's peer).
using AskDevice =
    std::function<absl::StatusOr<std::vector<v1::InspectedReplica>>(const RingDevice&,
                                                                    const v1::InspectReplicasRequest&)>;
ReplicaInventory AskEveryDevice(const Ring& ring, DbType type, const std::vector<int64_t>& partitions,
                                const std::vector<std::string>& hashes, const AskDevice& ask);

// The verdict on one database from the replicas `held` (by ring device id).
v1::DbCheck JudgeReplicas(const Ring& ring, int64_t partition, const std::string& hash,
                          const std::map<int, v1::InspectedReplica>& held, int per_diff);

// "<ip>:<port>" of a device's peer (IPv6 in brackets).
std::string PeerAddressOf(const RingDevice& device);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RPC_REPLICA_CHECK_H_
