// GrpcServer: how dbrepl-peer and dbrepl-agent serve gRPC. One place sets
// what a user of either expects: grpc.health.v1 (with "liveness" and
// "readiness" names, as Kubernetes probes want), server reflection (so
// `buf curl` / grpcurl-style tools can list and call methods), explicit
// message-size limits, keepalive that matches dbrepl's clients, optional TLS
// with client-certificate verification plus a plaintext health-only port, and
// a graceful stop (readiness NOT_SERVING first, in-flight calls finish).
//
//   GrpcServer server(options);
//   server.AddService(&peer_service);
//   RETURN_IF_ERROR(server.Start());
//   server.SetReady(true);
//   WaitForShutdownSignal();      // SIGTERM / SIGINT
//   server.Shutdown(absl::Seconds(10));
//
// Thread-safety: AddService before Start; everything else is thread-safe.
#ifndef DBREPL_COMMON_SERVER_GRPC_SERVER_H_
#define DBREPL_COMMON_SERVER_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/listener_check.h"
#include "grpcpp/grpcpp.h"

namespace dbrepl {

struct TlsFiles {
  // PEM files. All three set means mTLS: clients must present a certificate
  // signed by `ca_file`. Files are re-read when they change on disk (gRPC's
  // file-watcher provider), so rotated certificates need no restart.
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool enabled() const { return !cert_file.empty(); }
};

struct GrpcServerOptions {
  // Address to listen on; bind_port 0 picks a free port (see port()).
  std::string bind_ip = "0.0.0.0";
  int bind_port = 0;
  // Name used in log lines ("dbrepl-peer").
  std::string name = "dbrepl";
  TlsFiles tls;
  // With TLS on, a second, plaintext port that serves only grpc.health.v1
  // (Kubernetes gRPC probes cannot speak TLS). -1: none; 0: pick one.
  int health_port = -1;
  // Receive limit for one message; bigger ones are refused by gRPC with
  // RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 16 << 20;
  int max_send_message_bytes = 16 << 20;
  // Server keepalive: ping idle connections every `keepalive_time`, and
  // accept client pings as often as every `min_ping_interval` (clients ping
  // every 30 s; see common/server/channel_options.h).
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration min_ping_interval = absl::Seconds(10);
  // A connection with no call for this long is closed (the client reconnects
  // when it needs to), so idle connections cannot pile up to exhaust file
  // descriptors.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Threads the sync server may use for calls; calls beyond are refused
  // (RESOURCE_EXHAUSTED) rather than each getting a new thread.
  int max_threads = 256;
  // How often the server checks that its listener still accepts connections;
  // after three misses in a row "liveness" goes NOT_SERVING (and back when it
  // recovers). Zero: no check.
  absl::Duration listener_check_period = absl::Seconds(10);
};

class GrpcServer {
 public:
  explicit GrpcServer(GrpcServerOptions options);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Registers a service (not owned; must outlive the server). Its full name
  // becomes a health service name, NOT_SERVING until SetReady(true).
  void AddService(grpc::Service* service, const std::string& full_name);

  // Listens and starts serving. "" and "liveness" are SERVING at once;
  // "readiness" and the services are NOT_SERVING until SetReady(true).
  // UNAVAILABLE if the address cannot be bound; INVALID_ARGUMENT for bad TLS
  // files.
  absl::Status Start();

  // The port actually bound (useful with bind_port 0), and the health port.
  int port() const { return port_; }
  int health_port() const { return health_port_; }

  // Readiness: the owner's view of whether it can do useful work (devices
  // present, ring loaded). Ignored after Shutdown began.
  void SetReady(bool ready);
  // Any other health name (e.g. "device/sdb1").
  void SetHealth(const std::string& service, bool serving);

  // Graceful stop: every health name goes NOT_SERVING, new calls are
  // refused, in-flight calls get until `grace` to finish, then are cancelled.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  const GrpcServerOptions options_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  int health_port_ = -1;
  std::unique_ptr<ListenerCheck> listener_check_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it later
// starts. Call first thing in main(), before any thread exists.
void BlockShutdownSignals();

// Waits until SIGTERM or SIGINT arrives (they must be blocked) and returns
// the signal number.
int WaitForShutdownSignal();

}  // namespace dbrepl

#endif  // DBREPL_COMMON_SERVER_GRPC_SERVER_H_
