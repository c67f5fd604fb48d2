// dbrepl-peer: serves dbrepl.v1.ReplicationPeer for the databases on this
// node's devices. Flags are named after Swift's options.
#include <sys/stat.h>

#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/config/flags.h"
#include "common/config/swift_conf.h"
#include "common/fs_util.h"
#include "common/ring/reloading_ring.h"
#include "common/server/grpc_server.h"
#include "common/server/listener_check.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "peer/peer_metrics.h"
#include "peer/peer_service.h"
#include "peer/rsync_daemon.h"
#include "peer/tmp_sweeper.h"
#include "peer/upload.h"

DEFINE_int32(max_concurrent_calls, 64,
             "Calls served at once; more are refused with RESOURCE_EXHAUSTED so senders back off.");
DEFINE_int32(max_batch_rows, 10000, "Largest MergeItems batch accepted, in rows.");
DEFINE_int64(max_batch_bytes, 8 << 20, "Largest MergeItems batch accepted, in bytes.");
DEFINE_string(tls_cert_file, "", "PEM certificate: enables TLS on --bind_port.");
DEFINE_string(tls_key_file, "", "PEM private key of --tls_cert_file.");
DEFINE_string(tls_ca_file, "",
              "PEM CA bundle: when set with TLS, clients must present a certificate it signed (mTLS).");
DEFINE_int32(health_port, -1,
             "With TLS: a plaintext port serving only grpc.health.v1, for Kubernetes probes (-1: none).");
DEFINE_string(metrics_address, "", "host:port to serve Prometheus /metrics on (empty: off).");
DEFINE_bool(rsync_daemon, false,
            "Run and supervise the node's rsync daemon (Swift module names, rooted at --devices).");
DEFINE_string(rsync_address, "", "Address for the rsync daemon (default: --bind_ip).");
DEFINE_int32(rsync_port, 873, "Port for the rsync daemon.");
DEFINE_string(rsync_state_dir, "/var/run/dbrepl", "Where the rsync daemon's config, pid and lock files go.");
DEFINE_double(tmp_upload_max_age, 120,
              "Seconds an rsynced upload in <device>/tmp may sit unclaimed (or an rsync temporary file "
              "unchanged) before it is removed; its sender ships a new one next pass.");
DEFINE_string(rsync_auth_users, "",
              "rsyncd.conf 'auth users' for the built-in rsync daemon (e.g. 'swift'); requires "
              "--rsync_secrets_file. Empty: no authentication, as Swift's sample.");
DEFINE_string(rsync_secrets_file, "", "rsyncd.conf 'secrets file' (user:password lines, mode 0600).");
DEFINE_string(rsync_hosts_allow, "",
              "Who may connect to the built-in rsync daemon: 'ring' (the replication IPs of every device "
              "in the account and container rings, kept up to date), a comma-separated list of "
              "addresses/networks, or empty for anyone.");
DEFINE_int32(rsync_max_connections, 16,
             "Connections per module the built-in rsync daemon accepts at once; more are refused and "
             "retried by their senders next pass.");
DEFINE_double(sync_point_write_delay, 60,
              "Seconds a sync point raised on a hash match in the partition handshake is held in memory "
              "before it is written (a lost one only costs a hash comparison).");
DEFINE_double(shutdown_grace_seconds, 10, "On SIGTERM, how long in-flight calls may run before they are cancelled.");

namespace {

// The device directories under `devices` (none if it cannot be listed).
std::vector<std::string> DeviceNames(const std::string& devices) {
  std::vector<std::string> names;
  for (std::string& n : dbrepl::ListDirectory(devices).value_or(std::vector<std::string>())) {
    if (dbrepl::IsDirectory(devices + "/" + n)) names.push_back(std::move(n));
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  dbrepl::BlockShutdownSignals();
  gflags::SetUsageMessage("dbrepl-peer: Swift's account/container ReplicatorRpc as a gRPC service");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  LOG(INFO) << "open-file limit " << dbrepl::RaiseOpenFileLimit();

  absl::StatusOr<dbrepl::PeerConfig> config = dbrepl::LoadPeerConfigFromFlags();
  if (!config.ok()) {
    LOG(ERROR) << "configuration: " << config.status();
    return 2;
  }
  for (const std::string& w : config->warnings) LOG(WARNING) << w;

  dbrepl::peer::PeerMetrics metrics;
  if (!FLAGS_metrics_address.empty()) {
    if (absl::Status s = metrics.Serve(FLAGS_metrics_address); !s.ok()) {
      LOG(ERROR) << s;
      return 1;
    }
  }
  dbrepl::peer::PeerServiceOptions service_options;
  service_options.devices = config->devices;
  service_options.mount_check = config->mount_check;
  service_options.fallocate_reserve = config->fallocate_reserve;
  service_options.fallocate_reserve_is_percent = config->fallocate_reserve_is_percent;
  service_options.max_concurrent_calls = FLAGS_max_concurrent_calls;
  service_options.max_batch_rows = FLAGS_max_batch_rows;
  service_options.max_batch_bytes = FLAGS_max_batch_bytes;
  if (absl::StatusOr<dbrepl::HashPathConfig> hash = dbrepl::LoadHashPathConfig(dbrepl::SwiftConfPath(config->swift_dir));
      hash.ok()) {
    service_options.hash_config = *hash;
  } else {
    LOG(WARNING) << "no [swift-hash] config (" << hash.status()
                 << "): ReadStates is refused, and the agent on this node reads its databases itself";
  }
  dbrepl::peer::PeerService service(service_options, &metrics);
  // Uploads a crash left half-installed: the senders ship them again.
  dbrepl::peer::RemoveAbandonedUploads(dbrepl::Env::Default(), config->devices);
  dbrepl::peer::TmpSweeper sweeper(dbrepl::Env::Default(), config->devices,
                                   absl::Seconds(FLAGS_tmp_upload_max_age));
  sweeper.Start();

  dbrepl::GrpcServerOptions options;
  options.name = "dbrepl-peer";
  options.bind_ip = config->bind_ip;
  options.bind_port = config->bind_port;
  options.tls = {FLAGS_tls_cert_file, FLAGS_tls_key_file, FLAGS_tls_ca_file};
  options.health_port = FLAGS_health_port;
  dbrepl::GrpcServer server(options);
  server.AddService(&service, "dbrepl.v1.ReplicationPeer");
  if (absl::Status s = server.Start(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }

  std::unique_ptr<dbrepl::peer::RsyncDaemon> rsyncd;
  if (FLAGS_rsync_daemon) {
    dbrepl::peer::RsyncDaemonOptions ro;
    ro.address = FLAGS_rsync_address.empty() ? config->bind_ip : FLAGS_rsync_address;
    ro.port = FLAGS_rsync_port;
    ro.devices = config->devices;
    ro.device_names = DeviceNames(config->devices);
    ro.state_dir = FLAGS_rsync_state_dir;
    ro.max_connections = FLAGS_rsync_max_connections;
    ro.auth_users = FLAGS_rsync_auth_users;
    ro.secrets_file = FLAGS_rsync_secrets_file;
    if (!ro.auth_users.empty() && ro.secrets_file.empty()) {
      LOG(ERROR) << "--rsync_auth_users needs --rsync_secrets_file";
      return 2;
    }
    if (FLAGS_rsync_hosts_allow == "ring") {
      ro.hosts_allow = {"0.0.0.0/32"};  // Nobody, until the rings have loaded.
    } else if (!FLAGS_rsync_hosts_allow.empty()) {
      ro.hosts_allow = absl::StrSplit(FLAGS_rsync_hosts_allow, ',', absl::SkipWhitespace());
    }
    rsyncd = std::make_unique<dbrepl::peer::RsyncDaemon>(ro);
    if (absl::Status s = rsyncd->Start(); !s.ok()) {
      LOG(ERROR) << "rsync daemon: " << s;
      return 1;
    }
    // Not ready until rsync accepts uploads: a sender may push right away.
    if (absl::Status s = rsyncd->WaitUntilListening(absl::Seconds(30)); !s.ok()) {
      LOG(ERROR) << s;
      return 1;
    }
  }

  // Readiness: the devices directory is there and a ring (account or
  // container: one peer serves both) loads. Checked again every few seconds,
  // so a late-mounted volume or a ring arriving in a ConfigMap makes the peer
  // ready without a restart.
  absl::Notification stop_readiness;
  std::thread readiness([&]() {
    std::vector<std::string> ring_paths;
    for (dbrepl::DbType t : {dbrepl::DbType::kAccount, dbrepl::DbType::kContainer}) {
      ring_paths.push_back(absl::StrCat(config->swift_dir, "/", dbrepl::ServerType(t), ".ring.gz"));
    }
    std::vector<std::unique_ptr<dbrepl::ReloadingRing>> rings(ring_paths.size());
    bool last = false;
    bool first = true;
    int saturated_checks = 0;
    do {
      bool ring_ok = false;
      std::vector<std::string> replication_ips;
      for (size_t i = 0; i < rings.size(); ++i) {
        if (rings[i] == nullptr) {
          auto r = dbrepl::ReloadingRing::Open(ring_paths[i]);
          if (r.ok()) rings[i] = std::move(*r);
        } else {
          rings[i]->Get();  // Reloads when the file changed.
        }
        ring_ok |= rings[i] != nullptr;
        if (rings[i] != nullptr) {
          for (const auto& d : rings[i]->Get()->devices()) {
            if (d.has_value()) replication_ips.push_back(d->replication_ip);
          }
        }
      }
      bool devices_ok = dbrepl::IsDirectory(config->devices);
      if (rsyncd != nullptr && FLAGS_rsync_hosts_allow == "ring" && !replication_ips.empty()) {
        if (absl::Status s = rsyncd->SetHostsAllow(replication_ips); !s.ok()) {
          LOG(ERROR) << "rsync daemon: cannot update hosts allow: " << s;
        }
      }
      // Every admission slot taken at three checks in a row (15 s): say so,
      // rather than stay SERVING while refusing every call.
      saturated_checks =
          service.limiter().in_flight() >= service.limiter().max_in_flight() ? saturated_checks + 1 : 0;
      const bool saturated = saturated_checks >= 3;
      bool ready = devices_ok && ring_ok && !saturated;
      if (ready != last || first) {
        if (ready) {
          LOG(INFO) << "ready: devices " << config->devices << " present, ring loaded from " << config->swift_dir;
        } else {
          LOG(WARNING) << "not ready: " << (devices_ok ? "" : "devices directory missing; ")
                       << (ring_ok ? "" : "no account or container ring loadable in " + config->swift_dir + "; ")
                       << (saturated ? "every call slot busy for 15 s (--max_concurrent_calls)" : "");
        }
        server.SetReady(ready);
        last = ready;
        first = false;
      }
    } while (!stop_readiness.WaitForNotificationWithTimeout(absl::Seconds(5)));
  });
  // Sync points raised in the partition handshake are written behind; the
  // state cache's gauges are sampled as often.
  absl::Notification stop_flusher;
  std::thread flusher([&]() {
    while (!stop_flusher.WaitForNotificationWithTimeout(absl::Seconds(5))) {
      service.rpc().FlushPendingPoints(absl::Seconds(FLAGS_sync_point_write_delay), 2000);
      const dbrepl::peer::ReplicatorRpc::CacheStats c = service.rpc().GetCacheStats();
      metrics.SetStateCache({c.entries, c.held_points, c.sqlite_reads, c.refreshed});
    }
  });
  dbrepl::WaitForShutdownSignal();
  stop_flusher.Notify();
  flusher.join();
  stop_readiness.Notify();
  readiness.join();
  server.Shutdown(absl::Seconds(FLAGS_shutdown_grace_seconds));
  if (rsyncd != nullptr) rsyncd->Stop();
  int flushed = service.rpc().FlushPendingPoints(absl::ZeroDuration(), 1 << 30);
  if (flushed > 0) LOG(INFO) << "wrote the held sync points of " << flushed << " databases";
  return 0;
}
