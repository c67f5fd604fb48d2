#include "common/config/testing/config_fixtures.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace dbrepl::testing {

std::string WriteTempConfig(const std::string& name, const std::string& contents) {
  const char* base = getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp", "/conftest.XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::binary);
  out << contents;
  if (!out) abort();
  return path;
}

const char kContainerServerConf[] = R"([DEFAULT]
# bind_ip = 0.0.0.0
bind_ip = 10.0.0.5
bind_port = 6201
# keep_idle = 600
# bind_timeout = 30
# backlog = 4096
user = swift
swift_dir = /srv/swift
devices = /srv/node
mount_check = false
# disable_fallocate = false
workers = auto
log_name = container-server
log_facility = LOG_LOCAL2
Log_Level = INFO

[pipeline:main]
pipeline = healthcheck recon container-server

[app:container-server]
use = egg:swift#container
# These are the DEFAULT's, which win in an app section (Paste Deploy):
bind_port = 9999
set log_name = container-app
allow_versions = true
fallocate_reserve = 2%

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
recon_cache_path = /var/cache/swift

[container-replicator]
# You can override the default log routing for this app here (don't use set!):
# log_name = container-replicator
# Maximum number of database rows that will be sync'd in a single HTTP
# replication request. Databases with less than or equal to this number of
# differing rows will always be sync'd using an HTTP replication request rather
# than using rsync.
per_diff = 2000
#
# Maximum number of HTTP replication requests attempted on each replication
# pass for any one container. This caps how long the replicator will spend
# trying to sync a given database per pass so the other databases don't get
# starved.
max_diffs = 50
#
# Number of replication workers to spawn.
concurrency = 4
#
# Time in seconds to wait between replication passes
interval = 45.5
# run_pause is deprecated, use interval instead
# run_pause = 30
#
databases_per_second = 25
node_timeout = 15
conn_timeout = 1
#
# The replicator also performs reclamation
reclaim_age = 86400
#
# Allow rsync to compress data which is transmitted to destination node
# during sync. However, this is applicable only when destination node is in
# a different region than the local one.
rsync_compress = yes
#
# Format of the rsync module where the replicator will send data. See
# etc/rsyncd.conf-sample for some usage examples.
rsync_module = {replication_ip}::container{replication_port}/
#
recon_cache_path = /var/cache/swift/recon
handoffs_only = no
handoff_delete = 2
SomeFutureOption = whatever

[container-updater]
interval = 300
)";

}  // namespace dbrepl::testing
