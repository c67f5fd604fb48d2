// dbrepl-agent: walks this node's databases of one type and drives the peers
// holding the other replicas (Swift's account-/container-replicator).
//
//   dbrepl-agent --type=container --conf=/etc/swift/container-server.conf
//   dbrepl-agent --type=container --once --override_partitions=12,13
//
// Options come from the Swift config file's [<type>-replicator] section
// (with [DEFAULT]); command-line flags override the file.
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/admin_service.h"
#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/grpc_peer_client.h"
#include "agent/replication_pass.h"
#include "common/config/flags.h"
#include "common/config/replicator_config.h"
#include "common/config/swift_conf.h"

#include "common/paths.h"
#include "common/ring/reloading_ring.h"
#include "common/server/grpc_server.h"
#include "common/server/listener_check.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_bool(once, false, "Run one pass and exit; the exit status says whether every database replicated.");
DEFINE_string(override_devices, "",
              "With --once: comma-separated device names to replicate (Swift's -d); empty means all.");
DEFINE_string(override_partitions, "",
              "With --once: comma-separated partitions to replicate (Swift's -p); empty means all.");
DEFINE_string(admin_ip, "127.0.0.1", "IP address of the agent's admin gRPC endpoint (dbrepl.v1.ReplicationAgent).");
DEFINE_int32(admin_port, 6311, "Port of the admin endpoint (0 picks a free one; -1 disables it).");
DEFINE_string(metrics_address, "", "host:port to serve Prometheus /metrics on (empty: off).");
DEFINE_string(tls_cert_file, "", "PEM client certificate for mTLS to the peers.");
DEFINE_string(tls_key_file, "", "PEM private key of --tls_cert_file.");
DEFINE_string(tls_ca_file, "", "PEM CA bundle that signed the peers' certificates (enables TLS to peers).");
DEFINE_string(rsync_binary, "rsync", "The rsync client to run.");
DEFINE_string(rsync_password_file, "",
              "File with the password for rsync daemons that require authentication (rsync's "
              "--password-file; put the user in rsync_module, e.g. swift@{replication_ip}::container).");
DEFINE_double(progress_interval, 30, "Seconds between progress lines during a pass.");
DEFINE_double(shutdown_grace_seconds, 10, "On SIGTERM, how long in-flight admin calls may run.");

namespace {

using dbrepl::DbType;

absl::StatusOr<dbrepl::agent::PassOverrides> OnceOverrides() {
  dbrepl::agent::PassOverrides o;
  for (absl::string_view d : absl::StrSplit(FLAGS_override_devices, ',', absl::SkipWhitespace())) {
    if (absl::Status s = dbrepl::ValidateDeviceName(d); !s.ok()) return s;
    o.devices.insert(std::string(d));
  }
  for (absl::string_view p : absl::StrSplit(FLAGS_override_partitions, ',', absl::SkipWhitespace())) {
    absl::StatusOr<int64_t> part = dbrepl::ParsePartition(p);
    if (!part.ok()) return part.status();
    o.partitions.insert(*part);
  }
  return o;
}

int Run() {
  absl::StatusOr<DbType> type = dbrepl::ServerTypeFromFlags();
  if (!type.ok()) {
    LOG(ERROR) << type.status();
    return 2;
  }
  absl::StatusOr<dbrepl::ReplicatorConfig> config = dbrepl::LoadReplicatorConfigFromFlags();
  if (!config.ok()) {
    LOG(ERROR) << "configuration: " << config.status();
    return 2;
  }
  for (const std::string& w : config->warnings) LOG(WARNING) << w;
  absl::StatusOr<dbrepl::HashPathConfig> hash = dbrepl::LoadHashPathConfig(dbrepl::SwiftConfPath(config->swift_dir));
  if (!hash.ok()) {
    LOG(ERROR) << hash.status();
    return 2;
  }
  std::string ring_path = config->RingPath();
  dbrepl::ReloadingRing::Options ring_options;
  ring_options.check_interval = absl::Seconds(config->ring_check_interval);
  ring_options.on_error = [](const absl::Status& s) { LOG(ERROR) << "ring reload failed, keeping the old ring: " << s; };
  auto ring = dbrepl::ReloadingRing::Open(ring_path, ring_options);
  if (!ring.ok()) {
    LOG(ERROR) << "cannot load ring: " << ring.status();
    return 2;
  }

  dbrepl::agent::ReplicatorOptions ro;
  ro.type = *type;
  (void)dbrepl::ServerType(*type);
  ro.devices = config->devices;
  ro.mount_check = config->mount_check;
  ro.bind_ip = config->bind_ip;
  ro.bind_port = config->bind_port;
  ro.concurrency = config->concurrency;
  ro.per_diff = config->per_diff;
  ro.max_diffs = config->max_diffs;
  ro.batch_databases = static_cast<int>(config->batch_databases);
  ro.states_from_peer = config->states_from_peer;
  ro.node_timeout = absl::Seconds(config->node_timeout);
  ro.reclaim_age = config->reclaim_age;
  ro.handoffs_only = config->handoffs_only;
  ro.databases_per_second = config->databases_per_second;
  ro.recon_cache_path = config->recon_cache_path;
  ro.hash_config = *hash;
  ro.progress_interval = absl::Seconds(FLAGS_progress_interval);
  {
    std::string warning;
    ro.handoff_delete = static_cast<int>(
        dbrepl::EffectiveHandoffDelete(config->handoff_delete, (*ring)->Get()->replica_count(), &warning));
    if (!warning.empty()) LOG(WARNING) << warning;
  }

  dbrepl::agent::PeerClientOptions po;
  po.node_timeout = absl::Seconds(config->node_timeout);
  po.conn_timeout = absl::Seconds(config->conn_timeout);
  po.tls_cert_file = FLAGS_tls_cert_file;
  po.tls_key_file = FLAGS_tls_key_file;
  po.tls_ca_file = FLAGS_tls_ca_file;
  absl::StatusOr<std::unique_ptr<dbrepl::agent::GrpcPeerClient>> peer_client =
      dbrepl::agent::GrpcPeerClient::Create(po);
  if (!peer_client.ok()) {
    LOG(ERROR) << "configuration: " << peer_client.status();
    return 2;
  }
  dbrepl::agent::GrpcPeerClient& peers = **peer_client;
  dbrepl::agent::RsyncOptions rs;
  rs.binary = FLAGS_rsync_binary;
  rs.password_file = FLAGS_rsync_password_file;
  rs.module_template = config->rsync_module;
  rs.node_timeout = absl::Seconds(config->node_timeout);
  rs.conn_timeout = absl::Seconds(config->conn_timeout);
  rs.compress = config->rsync_compress;
  dbrepl::agent::ProcessRsyncRunner rsync(rs);
  dbrepl::agent::AgentMetrics metrics(*type);
  if (!FLAGS_metrics_address.empty()) {
    if (absl::Status s = metrics.Serve(FLAGS_metrics_address); !s.ok()) {
      LOG(ERROR) << s;
      return 2;
    }
  }
  dbrepl::agent::ReplicationPass replicator(ro, ring->get(), &peers, &rsync, &metrics);

  if (FLAGS_once) {
    absl::StatusOr<dbrepl::agent::PassOverrides> overrides = OnceOverrides();
    if (!overrides.ok()) {
      LOG(ERROR) << overrides.status();
      return 2;
    }
    if (absl::Status s = replicator.RunPass(*overrides); !s.ok()) {
      LOG(ERROR) << s;
      return 1;
    }
    return replicator.Last().succeeded ? 0 : 1;
  }

  dbrepl::agent::Agent agent(&replicator, absl::Seconds(config->interval), /*initial_delay=*/true);
  dbrepl::agent::AdminService admin(&replicator, &agent);
  std::unique_ptr<dbrepl::GrpcServer> server;
  if (FLAGS_admin_port >= 0) {
    dbrepl::GrpcServerOptions options;
    options.name = "dbrepl-agent";
    options.bind_ip = FLAGS_admin_ip;
    options.bind_port = FLAGS_admin_port;
    server = std::make_unique<dbrepl::GrpcServer>(options);
    server->AddService(&admin, "dbrepl.v1.ReplicationAgent");
    if (absl::Status s = server->Start(); !s.ok()) {
      LOG(ERROR) << s;
      return 2;
    }
    server->SetReady(true);
  }
  agent.Start();
  dbrepl::WaitForShutdownSignal();
  if (server != nullptr) server->Shutdown(absl::Seconds(FLAGS_shutdown_grace_seconds));
  LOG(INFO) << "stopping: waiting for the running pass, if any, to finish";
  agent.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dbrepl::BlockShutdownSignals();
  gflags::SetUsageMessage("dbrepl-agent: Swift's account/container replicator daemon over gRPC");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  LOG(INFO) << "open-file limit " << dbrepl::RaiseOpenFileLimit();
  return Run();
}
