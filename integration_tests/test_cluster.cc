#include "integration_tests/test_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/ring/ring.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/status_macros.h"

namespace dbrepl::testing {

absl::StatusOr<std::unique_ptr<TestCluster>> TestCluster::Start(Options options) {
  std::unique_ptr<TestCluster> c(new TestCluster());
  c->options_ = options;
  c->swift_dir_ = options.root + "/etc/swift";
  RETURN_IF_ERROR(MakeDirs(c->swift_dir_));
  c->hash_ = HashPathConfig{"", "dbrepl-test"};
  {
    std::ofstream conf(c->swift_dir_ + "/swift.conf");
    conf << "[swift-hash]\nswift_hash_path_prefix =\nswift_hash_path_suffix = dbrepl-test\n";
  }
  // 127.A.B.n, unique per process.
  int a = 1 + (getpid() % 200);
  int b = (getpid() / 200) % 250;
  for (size_t i = 0; i < options.nodes.size(); ++i) {
    Node n;
    n.ip = absl::StrCat("127.", a, ".", b, ".", i + 1);
    n.devices = options.nodes[i].devices;
    ASSIGN_OR_RETURN(n.port, PickFreePort(n.ip));
    c->nodes_.push_back(std::move(n));
  }
  ASSIGN_OR_RETURN(c->rsync_port_, PickFreePort(c->nodes_[0].ip));

  std::vector<RingDevice> devs;
  for (size_t i = 0; i < c->nodes_.size(); ++i) {
    for (const std::string& d : c->nodes_[i].devices) {
      RingDevice dev;
      dev.region = options.nodes[i].region;
      dev.zone = options.nodes[i].zone;
      dev.ip = dev.replication_ip = c->nodes_[i].ip;
      dev.port = dev.replication_port = c->nodes_[i].port;
      dev.device = d;
      dev.weight = 1;
      c->ring_devices_.emplace_back(static_cast<int>(i), d);
      devs.push_back(dev);
      bool missing = false;
      for (const std::string& m : options.missing_devices) missing |= m == absl::StrCat(i, "/", d);
      if (!missing) RETURN_IF_ERROR(MakeDirs(c->devices(static_cast<int>(i)) + "/" + d));
    }
    RETURN_IF_ERROR(MakeDirs(c->devices(static_cast<int>(i))));
  }
  ASSIGN_OR_RETURN(RingData data, BuildRing(devs, options.part_power, options.replicas));
  RETURN_IF_ERROR(WriteRingFile(c->ring_file(), data));
  for (int i = 0; i < c->size(); ++i) RETURN_IF_ERROR(c->StartPeer(i));
  return c;
}

TestCluster::~TestCluster() {
  for (int i = 0; i < size(); ++i) (void)StopPeer(i);
}

std::string TestCluster::devices(int node) const { return absl::StrCat(options_.root, "/node", node, "/srv/node"); }

std::string TestCluster::ring_file() const {
  return absl::StrCat(swift_dir_, "/", ServerType(options_.type), ".ring.gz");
}

std::string TestCluster::rsync_module() const {
  return absl::StrCat("rsync://{replication_ip}:", rsync_port_, "/", ServerType(options_.type));
}

int64_t TestCluster::PartitionOf(const std::string& account, const std::string& container) const {
  auto ring = Ring::Load(ring_file());
  return (*ring)->GetPart(hash_, account, container);
}

std::vector<int> TestCluster::PrimaryIds(int64_t partition) const {
  auto ring = Ring::Load(ring_file());
  std::vector<int> ids;
  for (const RingNode& n : (*ring)->GetPartNodes(partition)) ids.push_back(n.id);
  return ids;
}

int TestCluster::NodeOfDevice(int device_id) const { return ring_devices_.at(device_id).first; }
std::string TestCluster::DeviceName(int device_id) const { return ring_devices_.at(device_id).second; }

std::string TestCluster::DbPath(int node, const std::string& device, const std::string& account,
                                const std::string& container, int64_t partition) const {
  if (partition < 0) partition = PartitionOf(account, container);
  std::string hash = options_.type == DbType::kContainer ? HashPath(hash_, account, container) : HashPath(hash_, account);
  return DbFilePath(devices(node), device, options_.type, partition, hash);
}

absl::Status TestCluster::StopPeer(int node) {
  Node& n = nodes_[node];
  if (n.peer == nullptr) return absl::OkStatus();
  RETURN_IF_ERROR(n.peer->Signal(SIGTERM));
  absl::StatusOr<int> st = n.peer->Wait(absl::Seconds(30));
  n.peer.reset();
  return st.status();
}

absl::Status TestCluster::StartPeer(int node) {
  Node& n = nodes_[node];
  std::string state = absl::StrCat(options_.root, "/node", node, "/run");
  RETURN_IF_ERROR(MakeDirs(state));
  std::vector<std::string> argv = {options_.peer_binary,
                                   absl::StrCat("--bind_ip=", n.ip),
                                   absl::StrCat("--bind_port=", n.port),
                                   absl::StrCat("--devices=", devices(node)),
                                   "--mount_check=false",
                                   absl::StrCat("--swift_dir=", swift_dir_),
                                   "--rsync_daemon",
                                   absl::StrCat("--rsync_port=", rsync_port_),
                                   absl::StrCat("--rsync_state_dir=", state),
                                   "--shutdown_grace_seconds=5"};
  ASSIGN_OR_RETURN(n.peer, Subprocess::Start(argv, absl::StrCat(options_.root, "/node", node, "/peer.log")));
  absl::Status ready = WaitForServing(TestChannel(absl::StrCat(n.ip, ":", n.port)), "readiness", absl::Seconds(60));
  if (!ready.ok()) return absl::UnavailableError(absl::StrCat("peer ", node, ": ", ready.message(), "\n", n.peer->Log()));
  return absl::OkStatus();
}

}  // namespace dbrepl::testing
