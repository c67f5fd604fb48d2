// RsyncDaemon: lets a dbrepl-peer run the node's rsync daemon itself, so a
// node needs one process. It writes an rsyncd.conf with Swift's module naming
// ([account], [container], and per-device [account_<dev>]/[container_<dev>]
// for `rsync_module = {replication_ip}::container_{device}`), all rooted at
// `devices`, then supervises `rsync --daemon --no-detach`, restarting it
// (with backoff) if it dies.
//
// Swift's sample modules are writable over the whole devices root and follow
// whatever an upload contains; these are narrower, since uploads are the
// only thing a replicator sends: writes only (`write only`), only to
// <device>/tmp/<file> (a daemon filter refuses every other path), symlinks
// stored munged so they cannot be followed, and optionally rsync's own
// authentication and a `hosts allow` list (SetHostsAllow keeps it in step
// with the ring; rsync reads its config at every connection).
//
// The alternative is an external rsync daemon configured as Swift documents
// (etc/rsyncd.conf-sample); see README.md.
//
// Thread-safe: Start/Stop from one thread; the supervisor runs in its own.
#ifndef DBREPL_PEER_RSYNC_DAEMON_H_
#define DBREPL_PEER_RSYNC_DAEMON_H_

#include <sys/types.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace dbrepl::peer {

struct RsyncDaemonOptions {
  std::string rsync_binary = "rsync";
  std::string address = "0.0.0.0";
  int port = 873;
  std::string devices = "/srv/node";
  // Device names for per-device modules (may be empty).
  std::vector<std::string> device_names;
  // Where rsyncd.conf, the pid file and lock files go.
  std::string state_dir = "/var/run/dbrepl";
  int max_connections = 16;
  // rsync's own authentication (rsyncd.conf `auth users` / `secrets file`):
  // when set, a sender must give a user and password (the agent's
  // --rsync_password_file and a "user@" in its rsync_module). Empty: none,
  // as Swift's sample configuration.
  std::string auth_users;
  std::string secrets_file;
  // Addresses allowed to connect (rsyncd.conf `hosts allow`); empty: any.
  // dbrepl-peer fills it with the rings' replication IPs when asked to.
  std::vector<std::string> hosts_allow;
};

// The rsyncd.conf text for `options` (pure; exposed for tests).
std::string RsyncdConf(const RsyncDaemonOptions& options);

class RsyncDaemon {
 public:
  explicit RsyncDaemon(RsyncDaemonOptions options) : options_(std::move(options)) {}
  ~RsyncDaemon() { Stop(); }

  // Writes the config and starts the daemon and its supervisor.
  absl::Status Start();
  // Stops supervising and terminates the daemon (SIGTERM, then SIGKILL).
  void Stop();

  // Replaces the `hosts allow` list (no change: nothing written).
  absl::Status SetHostsAllow(std::vector<std::string> hosts);

  // Blocks until the daemon accepts TCP connections on its port, or
  // `timeout` passes (DEADLINE_EXCEEDED). rsync binds only after it has
  // forked and written its pid file, so a caller that rsyncs right after
  // Start() waits here first.
  absl::Status WaitUntilListening(absl::Duration timeout) const;
  // Blocks until the daemon has been started `n` times in all (restarts
  // included), or `timeout` passes; returns whether it got there.
  bool WaitForStarts(int n, absl::Duration timeout) const;

  // Times the daemon was (re)started; for tests and logs.
  int starts() const;
  pid_t pid() const;

 private:
  absl::Status Spawn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Supervise();

  absl::Status WriteConf() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RsyncDaemonOptions options_ ABSL_GUARDED_BY(mu_);
  std::string conf_path_;
  std::thread supervisor_;
  mutable absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = -1;
  int starts_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_RSYNC_DAEMON_H_
