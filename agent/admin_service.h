// AdminService: the dbrepl.v1.ReplicationAgent gRPC service, the agent's
// admin face. See proto/dbrepl/v1/agent.proto.
#ifndef DBREPL_AGENT_ADMIN_SERVICE_H_
#define DBREPL_AGENT_ADMIN_SERVICE_H_

#include "dbrepl/v1/agent.grpc.pb.h"

namespace dbrepl::agent {

class AdminService final : public v1::ReplicationAgent::Service {
 public:
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status RunPass(grpc::ServerContext* context, const v1::RunPassRequest* request,
                       v1::RunPassResponse* response) override;
  grpc::Status ReplicateDb(grpc::ServerContext* context, const v1::ReplicateDbRequest* request,
                           v1::ReplicateDbResponse* response) override;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_ADMIN_SERVICE_H_
