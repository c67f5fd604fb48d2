// dbrepl-peer: serves dbrepl.v1.ReplicationPeer for the databases on this
// node's devices. Flags are named after Swift's options.
#include <sys/stat.h>

#include "common/server/grpc_server.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "peer/peer_service.h"

DEFINE_string(bind_ip, "0.0.0.0", "IP address the peer listens on.");
DEFINE_int32(bind_port, 6301, "Port the peer listens on (0 picks a free one). Must equal the ring's "
                              "replication_port of this node's devices.");
DEFINE_string(devices, "/srv/node", "Directory holding one subdirectory per device (Swift's `devices`).");
DEFINE_bool(mount_check, true, "Refuse devices that are not mount points (Swift's `mount_check`).");
DEFINE_string(swift_dir, "/etc/swift", "Directory with swift.conf and the rings.");
DEFINE_double(shutdown_grace_seconds, 10, "On SIGTERM, how long in-flight calls may run before they are cancelled.");

int main(int argc, char** argv) {
  dbrepl::BlockShutdownSignals();
  gflags::SetUsageMessage("dbrepl-peer: Swift's account/container ReplicatorRpc as a gRPC service");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  dbrepl::peer::PeerService service;
  dbrepl::GrpcServerOptions options;
  options.name = "dbrepl-peer";
  options.bind_ip = FLAGS_bind_ip;
  options.bind_port = FLAGS_bind_port;
  dbrepl::GrpcServer server(options);
  server.AddService(&service, "dbrepl.v1.ReplicationPeer");
  if (absl::Status s = server.Start(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  struct stat st;
  server.SetReady(stat(FLAGS_devices.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  dbrepl::WaitForShutdownSignal();
  server.Shutdown(absl::Seconds(FLAGS_shutdown_grace_seconds));
  return 0;
}
