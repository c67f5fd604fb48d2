#include "common/server/grpc_server.h"

#include <signal.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace dbrepl {
namespace {

constexpr char kLiveness[] = "liveness";
constexpr char kReadiness[] = "readiness";

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  if (tls.key_file.empty()) return absl::InvalidArgumentError("TLS: a certificate needs a key file");
  // The file watcher re-reads the files every 60 s, so a rotated certificate
  // (e.g. a cert-manager Secret) is picked up without a restart.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.ca_file, /*refresh_interval_sec=*/60);
  grpc::experimental::TlsServerCredentialsOptions opts(provider);
  opts.watch_identity_key_cert_pairs();
  if (!tls.ca_file.empty()) {
    opts.watch_root_certs();
    opts.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    opts.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(opts);
}

}  // namespace

GrpcServer::GrpcServer(GrpcServerOptions options) : options_(std::move(options)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::AddService(grpc::Service* service, const std::string& full_name) {
  CHECK(server_ == nullptr) << "AddService after Start";
  services_.emplace_back(service, full_name);
}

absl::Status GrpcServer::Start() {
  CHECK(server_ == nullptr) << "Start called twice";
  for (const std::string& f : {options_.tls.cert_file, options_.tls.key_file, options_.tls.ca_file}) {
    if (!f.empty() && access(f.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("TLS file ", f, " is not readable"));
    }
  }
  auto creds = MakeCredentials(options_.tls);
  if (!creds.ok()) return creds.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  std::string address = absl::StrCat(options_.bind_ip.find(':') != std::string::npos
                                         ? absl::StrCat("[", options_.bind_ip, "]")
                                         : options_.bind_ip,
                                     ":", options_.bind_port);
  builder.AddListeningPort(address, *creds, &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_send_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, absl::ToInt64Milliseconds(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             absl::ToInt64Milliseconds(options_.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             absl::ToInt64Milliseconds(options_.min_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options_.max_connection_idle)));
  grpc::ResourceQuota quota(absl::StrCat(options_.name, "-quota"));
  quota.SetMaxThreads(options_.max_threads);
  builder.SetResourceQuota(quota);
  // Sync-server pollers wake this often; it bounds how long Shutdown waits
  // for idle pollers once calls are done (gRPC's default is 10 s).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 200);
  for (auto& [service, name] : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(options_.name, ": cannot listen on ", address));
  }

  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kLiveness, true);
  health->SetServingStatus(kReadiness, false);
  for (auto& [service, name] : services_) health->SetServingStatus(name, false);
  LOG(INFO) << options_.name << ": listening on " << options_.bind_ip << ":" << port_
            << (options_.tls.enabled() ? " (TLS)" : " (plaintext)");
  if (options_.listener_check_period > absl::ZeroDuration()) {
    std::string host = options_.bind_ip;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    listener_check_ = std::make_unique<ListenerCheck>(host, port_, options_.listener_check_period, 3,
                                                      [this](bool up) { SetHealth(kLiveness, up); });
    listener_check_->Start();
  }

  if (options_.tls.enabled() && options_.health_port >= 0) {
    // Kubernetes gRPC probes speak plaintext only: a second server that
    // hosts nothing but grpc.health.v1, mirroring the main server's state.
    grpc::ServerBuilder hb;
    hb.AddListeningPort(absl::StrCat(options_.bind_ip, ":", options_.health_port),
                        grpc::InsecureServerCredentials(), &health_port_);
    health_server_ = hb.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat(options_.name, ": cannot listen on health port ",
                                                 options_.health_port));
    }
    auto* h = health_server_->GetHealthCheckService();
    h->SetServingStatus("", true);
    h->SetServingStatus(kLiveness, true);
    h->SetServingStatus(kReadiness, false);
    LOG(INFO) << options_.name << ": plaintext health on port " << health_port_;
  }
  return absl::OkStatus();
}

void GrpcServer::SetReady(bool ready) {
  SetHealth(kReadiness, ready);
  for (auto& [service, name] : services_) SetHealth(name, ready);
}

void GrpcServer::SetHealth(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_ || server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus(service, serving);
  if (health_server_ != nullptr) health_server_->GetHealthCheckService()->SetServingStatus(service, serving);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (listener_check_ != nullptr) listener_check_->Stop();
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_ || server_ == nullptr) return;
    shut_down_ = true;
    // Health first, so load balancers and probes stop sending work; then
    // stop accepting calls and let in-flight ones finish until the deadline.
    server_->GetHealthCheckService()->Shutdown();
    if (health_server_ != nullptr) health_server_->GetHealthCheckService()->Shutdown();
  }
  LOG(INFO) << options_.name << ": shutting down, in-flight calls have " << grace << " to finish";
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  LOG(INFO) << options_.name << ": stopped";
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  LOG(INFO) << "received " << strsignal(sig);
  return sig;
}

}  // namespace dbrepl
