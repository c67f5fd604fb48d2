#include "agent/rsync_runner.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/lock_file.h"
#include "common/fs_util.h"
#include "common/subprocess.h"

namespace dbrepl::agent {
namespace {

std::string Bracketed(const std::string& ip) {
  return ip.find(':') != std::string::npos ? absl::StrCat("[", ip, "]") : ip;
}

}  // namespace

absl::StatusOr<std::string> InterpolateRsyncModule(const std::string& templ, const RingNode& node) {
  std::string out;
  for (size_t i = 0; i < templ.size(); ++i) {
    char c = templ[i];
    if (c == '}') {
      return absl::InvalidArgumentError(absl::StrCat("rsync_module '", templ, "': unbalanced '}'"));
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    size_t end = templ.find('}', i);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("rsync_module '", templ, "': unbalanced '{'"));
    }
    std::string field = templ.substr(i + 1, end - i - 1);
    if (field == "ip") {
      out += Bracketed(node.ip);
    } else if (field == "port") {
      absl::StrAppend(&out, node.port);
    } else if (field == "replication_ip") {
      out += Bracketed(node.replication_ip);
    } else if (field == "replication_port") {
      absl::StrAppend(&out, node.replication_port);
    } else if (field == "region") {
      absl::StrAppend(&out, node.region);
    } else if (field == "zone") {
      absl::StrAppend(&out, node.zone);
    } else if (field == "device") {
      out += node.device;
    } else if (field == "meta") {
      out += node.meta;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("rsync_module '", templ, "': unknown field {", field, "}"));
    }
    i = end;
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

absl::StatusOr<std::string> ProcessRsyncRunner::Destination(const RingNode& node, const std::string& local_id) const {
  absl::StatusOr<std::string> module = InterpolateRsyncModule(options_.module_template, node);
  if (!module.ok()) return module.status();
  return absl::StrCat(*module, "/", node.device, "/tmp/", local_id);
}

std::vector<std::string> ProcessRsyncRunner::Command(const std::string& local_file, const std::string& dest,
                                              bool whole_file, bool different_region) const {
  std::vector<std::string> argv = {
      options_.binary, "--quiet", "--no-motd",
      absl::StrCat("--timeout=", static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(options_.node_timeout)))),
      absl::StrCat("--contimeout=",
                   static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(options_.conn_timeout))))};
  // rsync's small protocol writes otherwise wait on Nagle and delayed ACKs:
  // ~40 ms several times per file on loopback.
  if (options_.tcp_nodelay) argv.push_back("--sockopts=TCP_NODELAY");
  if (!options_.password_file.empty()) argv.push_back(absl::StrCat("--password-file=", options_.password_file));
  if (whole_file) argv.push_back("--whole-file");
  if (options_.compress && different_region) argv.push_back("--compress");
  argv.push_back(local_file);
  argv.push_back(dest);
  return argv;
}

absl::Status ProcessRsyncRunner::Run(const std::vector<std::string>& argv) const {
  absl::StatusOr<pid_t> pid = SpawnProcess(argv);
  if (!pid.ok()) return pid.status();
  absl::StatusOr<int> status = WaitForExit(*pid);
  if (!status.ok()) return status.status();
  int rc = ExitCode(*status);
  if (rc == 0) return absl::OkStatus();
  std::string shown = absl::StrJoin(argv.begin(), argv.begin() + std::min<size_t>(argv.size(), 12), " ");
  return absl::UnavailableError(absl::StrCat("rsync failed with ", rc, ": ", shown, argv.size() > 12 ? " ..." : ""));
}

absl::Status ProcessRsyncRunner::Push(const std::string& local_file, const std::string& dest, bool whole_file,
                                      bool different_region) const {
  return Run(Command(local_file, dest, whole_file, different_region));
}

absl::Status ProcessRsyncRunner::PushBatch(const std::vector<std::pair<std::string, std::string>>& files,
                                           const RingNode& node, const std::string& staging_dir,
                                           bool different_region) const {
  absl::StatusOr<std::string> dest = Destination(node, "");
  if (!dest.ok()) return dest.status();
  // <device>/tmp may not exist yet on a device that never received a file
  // (never the device itself: the databases are in it).
  std::string tmp_dir(Dirname(staging_dir));
  if (mkdir(tmp_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("mkdir ", tmp_dir, ": ", std::strerror(errno)));
  }
  if (mkdir(staging_dir.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", staging_dir, ": ", std::strerror(errno)));
  }
  // Held for the whole push: the peer's tmp sweeper removes an outbox only
  // when nobody holds it (its owner died), never one in use.
  absl::StatusOr<DirectoryLock> in_use = TryLockDirectoryItself(staging_dir);
  if (!in_use.ok()) {
    rmdir(staging_dir.c_str());
    return in_use.status();
  }
  // Only the links are in it.
  auto cleanup = absl::MakeCleanup([&] {
    for (const auto& file : files) unlink(absl::StrCat(staging_dir, "/", file.second).c_str());
    rmdir(staging_dir.c_str());
  });
  for (const auto& [local, name] : files) {
    std::string link = absl::StrCat(staging_dir, "/", name);
    if (::link(local.c_str(), link.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("link ", local, " to ", link, ": ", std::strerror(errno)));
    }
  }
  std::vector<std::string> argv = Command(absl::StrCat(staging_dir, "/"), *dest, /*whole_file=*/true, different_region);
  // Command ends with SRC DEST; copy the directory's files, not the directory.
  argv.insert(argv.end() - 2, "--dirs");
  return Run(argv);
}


}  // namespace dbrepl::agent
