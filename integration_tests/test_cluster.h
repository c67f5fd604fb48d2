// TestCluster: a small Swift-like cluster on this machine for tests. Each
// node gets its own loopback address (127.A.B.<n>, A.B derived from the pid
// so concurrently running tests never collide), its own devices directory,
// and a real dbrepl-peer process that also runs the node's rsync daemon. The
// ring (part power and replica count as asked, one device per node unless
// more are given) is written to a shared swift_dir with a swift.conf.
//
// Not thread-safe; owned by one test.
#ifndef DBREPL_INTEGRATION_TESTS_TEST_CLUSTER_H_
#define DBREPL_INTEGRATION_TESTS_TEST_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db_type.h"
#include "common/hash_path.h"
#include "integration_tests/process_util.h"

namespace dbrepl::testing {

struct TestNodeSpec {
  int region = 1;
  int zone = 1;
  std::vector<std::string> devices = {"sda"};
};

class TestCluster {
 public:
  struct Options {
    std::string root;         // Working directory.
    std::string peer_binary;  // Path of dbrepl-peer.
    std::vector<TestNodeSpec> nodes;
    int part_power = 4;
    double replicas = 3;
    DbType type = DbType::kContainer;
    // Devices listed here are left out of the node's devices dir, so the
    // peer answers DEVICE_UNAVAILABLE for them ("<node index>/<device>").
    std::vector<std::string> missing_devices;
  };

  static absl::StatusOr<std::unique_ptr<TestCluster>> Start(Options options);
  ~TestCluster();

  int size() const { return static_cast<int>(nodes_.size()); }
  const std::string& ip(int node) const { return nodes_[node].ip; }
  int peer_port(int node) const { return nodes_[node].port; }
  int rsync_port() const { return rsync_port_; }
  std::string devices(int node) const;
  const std::string& swift_dir() const { return swift_dir_; }
  std::string ring_file() const;
  const HashPathConfig& hash_config() const { return hash_; }
  // The rsync_module template that reaches every node's rsync daemon.
  std::string rsync_module() const;

  // Path of the database for account/container on `node`'s `device` in
  // `partition` (the ring's partition when partition < 0).
  std::string DbPath(int node, const std::string& device, const std::string& account, const std::string& container,
                     int64_t partition = -1) const;
  int64_t PartitionOf(const std::string& account, const std::string& container) const;
  // Ring device ids of the primaries for `partition`, and the node index and
  // device of a ring device id.
  std::vector<int> PrimaryIds(int64_t partition) const;
  int NodeOfDevice(int device_id) const;
  std::string DeviceName(int device_id) const;

  absl::Status StopPeer(int node);
  absl::Status StartPeer(int node);

 private:
  struct Node {
    std::string ip;
    int port = 0;
    std::vector<std::string> devices;
    std::unique_ptr<Subprocess> peer;
  };
  TestCluster() = default;

  Options options_;
  std::vector<Node> nodes_;
  std::vector<std::pair<int, std::string>> ring_devices_;  // id -> (node, device)
  int rsync_port_ = 0;
  std::string swift_dir_;
  HashPathConfig hash_;
};

}  // namespace dbrepl::testing

#endif  // DBREPL_INTEGRATION_TESTS_TEST_CLUSTER_H_
