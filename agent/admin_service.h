// AdminService: dbrepl.v1.ReplicationAgent, the agent's admin face (see
// proto/dbrepl/v1/agent.proto): status with progress, run a pass now,
// replicate one database now. Thread-safe.
#ifndef DBREPL_AGENT_ADMIN_SERVICE_H_
#define DBREPL_AGENT_ADMIN_SERVICE_H_

#include "agent/agent.h"
#include "agent/replication_pass.h"
#include "dbrepl/v1/agent.grpc.pb.h"

namespace dbrepl::agent {

class AdminService final : public v1::ReplicationAgent::Service {
 public:
  AdminService(ReplicationPass* replicator, Agent* agent) : replicator_(replicator), agent_(agent) {}

  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status RunPass(grpc::ServerContext* context, const v1::RunPassRequest* request,
                       v1::RunPassResponse* response) override;
  grpc::Status ReplicateDb(grpc::ServerContext* context, const v1::ReplicateDbRequest* request,
                           v1::ReplicateDbResponse* response) override;

 private:
  ReplicationPass* replicator_;
  Agent* agent_;
};

// Fills `out` from a pass's progress (rate and ETA derived here).
void ToProto(const PassProgress& progress, v1::PassStatus* out);

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_ADMIN_SERVICE_H_
