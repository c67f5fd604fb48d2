#include "agent/admin_service.h"

namespace dbrepl::agent {
namespace {

grpc::Status NotYet(const char* method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      std::string("dbrepl.v1.ReplicationAgent/") + method + " is not implemented in this build");
}

}  // namespace

grpc::Status AdminService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::GetStatusResponse*) {
  return NotYet("GetStatus");
}
grpc::Status AdminService::RunPass(grpc::ServerContext*, const v1::RunPassRequest*, v1::RunPassResponse*) {
  return NotYet("RunPass");
}
grpc::Status AdminService::ReplicateDb(grpc::ServerContext*, const v1::ReplicateDbRequest*,
                                       v1::ReplicateDbResponse*) {
  return NotYet("ReplicateDb");
}

}  // namespace dbrepl::agent
