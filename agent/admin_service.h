// AdminService: dbrepl.v1.ReplicationAgent, the agent's admin face (see
// proto/dbrepl/v1/agent.proto): status with progress, run a pass now,
// replicate one database now.
//
//   AdminService admin(&replicator, &agent);
//   server.AddService(&admin, "dbrepl.v1.ReplicationAgent");   // common/server
//
// Lifecycle: the service holds no state of its own. Construct it before the
// GrpcServer starts, and keep it, the Replicator and the Agent alive until
// the server has shut down (gRPC calls the methods until then).
//
// Success and failure, per call (converted with common/rpc/grpc_status.h, so
// the reason travels as "dbrepl-error-reason"):
//   GetStatus    always OK: the running (or last) pass and the last finished
//                one, with rate and ETA derived from the progress counters.
//   RunPass      OK with started = true when a pass was started, started =
//                false when one is already running or requested, or the
//                agent is stopping (not an error);
//                INVALID_ARGUMENT/INVALID_REQUEST for a malformed device name
//                or partition.
//   ReplicateDb  OK once every peer has been tried, whatever each peer's
//                outcome (success, per-peer action and detail are in the
//                response); INVALID_ARGUMENT/INVALID_DB_REF for a malformed
//                DbRef or one of the other database type; NOT_FOUND when the
//                device is not one of this node's in the ring, and
//                NOT_FOUND/DB_NOT_FOUND when the database file does not
//                exist. Each failure is logged with the caller.
//   CheckPass    a dry-run pass (ReplicationPass::CheckLocal), streamed; OK
//                at the end; INVALID_ARGUMENT/INVALID_REQUEST as RunPass;
//                FAILED_PRECONDITION when this node is not in the ring.
//
// Thread-safety: thread-safe; gRPC calls the methods concurrently. A
// ReplicateDb may run while a pass does (Replicator::ReplicateDb is safe to
// call concurrently).
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
  grpc::Status CheckPass(grpc::ServerContext* context, const v1::CheckPassRequest* request,
                         grpc::ServerWriter<v1::DbCheck>* writer) override;

 private:
  ReplicationPass* replicator_;
  Agent* agent_;
};

// Fills `out` from a pass's progress (rate and ETA derived here).
void ToProto(const PassProgress& progress, v1::PassStatus* out);

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_ADMIN_SERVICE_H_
