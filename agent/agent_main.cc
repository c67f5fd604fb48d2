// dbrepl-agent: walks this node's databases and drives the peers holding the
// other replicas (Swift's db_replicator.Replicator). Serves its admin API,
// dbrepl.v1.ReplicationAgent, on --admin_port.
#include "agent/admin_service.h"
#include "common/server/grpc_server.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(devices, "/srv/node", "Directory holding one subdirectory per device (Swift's `devices`).");
DEFINE_string(admin_ip, "127.0.0.1", "IP address of the agent's admin gRPC endpoint.");
DEFINE_int32(admin_port, 6311, "Port of the agent's admin gRPC endpoint (0 picks a free one).");
DEFINE_double(shutdown_grace_seconds, 10, "On SIGTERM, how long in-flight calls may run before they are cancelled.");

int main(int argc, char** argv) {
  dbrepl::BlockShutdownSignals();
  gflags::SetUsageMessage("dbrepl-agent: Swift's account/container replicator daemon");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  dbrepl::agent::AdminService service;
  dbrepl::GrpcServerOptions options;
  options.name = "dbrepl-agent";
  options.bind_ip = FLAGS_admin_ip;
  options.bind_port = FLAGS_admin_port;
  dbrepl::GrpcServer server(options);
  server.AddService(&service, "dbrepl.v1.ReplicationAgent");
  if (absl::Status s = server.Start(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  server.SetReady(true);
  dbrepl::WaitForShutdownSignal();
  server.Shutdown(absl::Seconds(FLAGS_shutdown_grace_seconds));
  return 0;
}
