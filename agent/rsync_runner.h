// RsyncRunner: ships a whole database file to a peer's <device>/tmp/ with the
// rsync client, exactly as Swift's _rsync_file does:
//
//   rsync --quiet --no-motd --timeout=<ceil(node_timeout)>
//         --contimeout=<ceil(conn_timeout)> [--whole-file] [--compress] SRC DEST
//
// DEST is "<module>/<device>/tmp/<local db id>", where <module> comes from
// the `rsync_module` template (Swift's rsync_module_interpolation): fields
// {ip}, {port}, {replication_ip}, {replication_port}, {region}, {zone},
// {device}, {meta}; IPv6 addresses are bracketed. `--compress` only when the
// peer is in another region and rsync_compress is on.
//
// RsyncRunner is the interface the replicator uses (tests substitute a
// failing one); ProcessRsyncRunner runs the real rsync client.
//
// Thread-safe: each Push runs its own child process.
#ifndef DBREPL_AGENT_RSYNC_RUNNER_H_
#define DBREPL_AGENT_RSYNC_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/ring/ring.h"

namespace dbrepl::agent {

struct RsyncOptions {
  std::string binary = "rsync";
  // Template; Swift's default is "{replication_ip}::<account|container>".
  std::string module_template;
  absl::Duration node_timeout = absl::Seconds(10);
  absl::Duration conn_timeout = absl::Milliseconds(500);
  bool compress = false;  // Swift's rsync_compress.
  // --sockopts=TCP_NODELAY (the daemon should set `socket options =
  // TCP_NODELAY` too, as dbrepl-peer's does).
  bool tcp_nodelay = true;
  // rsync's --password-file, for daemons with `auth users` (empty: none).
  std::string password_file;
};

// Expands the template for `node`. INVALID_ARGUMENT naming an unknown field
// or an unbalanced brace.
absl::StatusOr<std::string> InterpolateRsyncModule(const std::string& templ, const RingNode& node);

class RsyncRunner {
 public:
  virtual ~RsyncRunner() = default;

  // The destination for `local_id` on `node`.
  virtual absl::StatusOr<std::string> Destination(const RingNode& node, const std::string& local_id) const = 0;

  // Copies `local_file` to `dest`. UNAVAILABLE with the exit code and argv
  // on failure.
  virtual absl::Status Push(const std::string& local_file, const std::string& dest, bool whole_file,
                            bool different_region) const = 0;

  // Copies many files to <module>/<node's device>/tmp/ in one rsync run,
  // each under its own name: `files` pairs a local path with the name it
  // gets there (the sender's database id). `staging_dir` is a new directory
  // on the files' filesystem (they are hard-linked there under their names,
  // and it is removed afterwards). UNAVAILABLE on failure; nothing says
  // which files arrived, so callers treat all as not shipped.
  virtual absl::Status PushBatch(const std::vector<std::pair<std::string, std::string>>& files, const RingNode& node,
                                 const std::string& staging_dir, bool different_region) const = 0;
};

class ProcessRsyncRunner final : public RsyncRunner {
 public:
  explicit ProcessRsyncRunner(RsyncOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::string> Destination(const RingNode& node, const std::string& local_id) const override;

  // The argv Push would run (for logs and tests).
  std::vector<std::string> Command(const std::string& local_file, const std::string& dest, bool whole_file,
                                   bool different_region) const;

  absl::Status Push(const std::string& local_file, const std::string& dest, bool whole_file,
                    bool different_region) const override;
  absl::Status PushBatch(const std::vector<std::pair<std::string, std::string>>& files, const RingNode& node,
                         const std::string& staging_dir, bool different_region) const override;

 private:
  absl::Status Run(const std::vector<std::string>& argv) const;
  const RsyncOptions options_;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_RSYNC_RUNNER_H_
