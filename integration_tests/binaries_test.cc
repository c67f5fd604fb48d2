// Starts dbrepl-peer and dbrepl-agent as real processes on free loopback
// ports and checks what every deployment relies on: gRPC health (liveness,
// readiness), server reflection listing the dbrepl services, a clear
// UNIMPLEMENTED-free answer surface, and a clean exit on SIGTERM.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/ring/ring_builder.h"
#include "common/ring/ring_format.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/process_util.h"

namespace dbrepl::testing {
namespace {

using ::testing::Contains;

std::string g_peer_binary;
std::string g_agent_binary;

struct Binary {
  std::string name;
  std::string service;
  std::vector<std::string> extra_args;
};

void PrintTo(const Binary& b, std::ostream* os) { *os << b.name; }

class BinariesTest : public ::testing::TestWithParam<Binary> {};

TEST_P(BinariesTest, ServesHealthAndReflectionAndStopsCleanlyOnSigterm) {
  const Binary& b = GetParam();
  std::string dir = absl::StrCat(TestTmpDir(), "/", b.name);
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/devices").c_str(), 0755);
  mkdir((dir + "/devices/sda").c_str(), 0755);
  // A swift_dir with swift.conf and a one-device ring: readiness needs the
  // ring, and the agent will not start without it.
  std::string swift_dir = dir + "/swift";
  mkdir(swift_dir.c_str(), 0755);
  {
    std::ofstream conf(swift_dir + "/swift.conf");
    conf << "[swift-hash]\nswift_hash_path_suffix = test\n";
  }
  ASSERT_OK_AND_ASSIGN(RingDevice dev, ParseDeviceSpec("1/1/127.0.0.1:6201/sda"));
  ASSERT_OK_AND_ASSIGN(RingData ring, BuildRing({dev}, 2, 1));
  ASSERT_OK(WriteRingFile(swift_dir + "/container.ring.gz", ring));
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  std::vector<std::string> argv = {b.name == "peer" ? g_peer_binary : g_agent_binary};
  for (const std::string& a : b.extra_args) argv.push_back(a);
  argv.push_back(b.name == "peer" ? absl::StrCat("--bind_port=", port) : absl::StrCat("--admin_port=", port));
  argv.push_back(absl::StrCat("--devices=", dir, "/devices"));
  argv.push_back(absl::StrCat("--swift_dir=", swift_dir));
  ASSERT_OK_AND_ASSIGN(auto proc, Subprocess::Start(argv, dir + "/log"));

  auto channel = TestChannel(absl::StrCat("127.0.0.1:", port));
  ASSERT_OK_AND_ASSIGN(std::string live, HealthCheck(channel, "liveness", absl::Seconds(30)));
  EXPECT_EQ(live, "SERVING") << proc->Log();
  ASSERT_OK_AND_ASSIGN(std::string overall, HealthCheck(channel, "", absl::Seconds(5)));
  EXPECT_EQ(overall, "SERVING");
  // Readiness comes once the devices and the ring are checked.
  ASSERT_OK(WaitForServing(channel, "readiness", absl::Seconds(30))) << proc->Log();
  ASSERT_OK_AND_ASSIGN(std::string svc, HealthCheck(channel, b.service, absl::Seconds(5)));
  EXPECT_EQ(svc, "SERVING");
  // An unknown health name is NOT_FOUND, not a silent SERVING.
  EXPECT_THAT(HealthCheck(channel, "no.such.Service", absl::Seconds(5)), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, ListServices(channel, absl::Seconds(5)));
  EXPECT_THAT(services, Contains(b.service));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));

  channel.reset();
  ASSERT_OK(proc->Signal(SIGTERM));
  ASSERT_OK_AND_ASSIGN(int status, proc->Wait(absl::Seconds(30)));
  ASSERT_TRUE(WIFEXITED(status)) << "did not exit normally: " << status << "\n" << proc->Log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << proc->Log();
  EXPECT_THAT(proc->Log(), ::testing::HasSubstr("shutting down"));
}

// Issue 4's promise: both binaries start from a Swift-style config file and a
// ring built by Swift's own swift-ring-builder, with no other flags.
TEST(SwiftConfigTest, BothBinariesStartFromASwiftConfigFileAndASwiftBuiltRing) {
  std::string dir = absl::StrCat(TestTmpDir(), "/swiftconf");
  for (const std::string& d : {dir, dir + "/devices", dir + "/devices/sda", dir + "/swift"}) mkdir(d.c_str(), 0755);
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  {
    std::ofstream conf(dir + "/container-server.conf");
    conf << "[DEFAULT]\n"
         << "devices = " << dir << "/devices\n"
         << "mount_check = false\n"
         << "bind_ip = 127.0.0.1\n"
         << "bind_port = " << port << "\n"
         << "swift_dir = " << dir << "/swift\n"
         << "\n[pipeline:main]\npipeline = container-server\n"
         << "\n[app:container-server]\nuse = egg:swift#container\n"
         << "\n[container-replicator]\nconcurrency = 2\nrecon_cache_path = " << dir << "/recon\n"
         << "databases_per_second = 0\n";
    std::ofstream swift_conf(dir + "/swift/swift.conf");
    swift_conf << "[swift-hash]\nswift_hash_path_suffix = conftest\n";
  }
  std::string builder = dir + "/swift/container.builder";
  std::string cmd = absl::StrCat("cd ", dir, "/swift && /usr/bin/swift-ring-builder ", builder,
                                 " create 4 1 1 >/dev/null && /usr/bin/swift-ring-builder ", builder,
                                 " add r1z1-127.0.0.1:", port, "/sda 1 >/dev/null && /usr/bin/swift-ring-builder ",
                                 builder, " rebalance >/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "swift-ring-builder failed (is Debian's swift installed?)";

  std::string conf = "--conf=" + dir + "/container-server.conf";
  ASSERT_OK_AND_ASSIGN(auto peer, Subprocess::Start({g_peer_binary, conf}, dir + "/peer.log"));
  auto channel = TestChannel(absl::StrCat("127.0.0.1:", port));
  ASSERT_OK(WaitForServing(channel, "readiness", absl::Seconds(30))) << peer->Log();

  ASSERT_OK_AND_ASSIGN(auto agent, Subprocess::Start({g_agent_binary, conf, "--once"}, dir + "/agent.log"));
  ASSERT_OK_AND_ASSIGN(int st, agent->Wait(absl::Seconds(60)));
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << agent->Log();
  EXPECT_THAT(agent->Log(), ::testing::HasSubstr("Beginning replication run"));
  EXPECT_THAT(agent->Log(), ::testing::Not(::testing::HasSubstr("Can't find itself")));
  // The recon cache went where the file said.
  std::ifstream recon(dir + "/recon/container.recon");
  EXPECT_TRUE(recon.good());

  // A bad value in the file is a clear start-up error naming the option.
  {
    std::ofstream bad(dir + "/bad.conf");
    bad << "[DEFAULT]\ndevices = " << dir << "/devices\n[container-replicator]\nconcurrency = lots\n";
  }
  ASSERT_OK_AND_ASSIGN(auto broken,
                       Subprocess::Start({g_agent_binary, "--conf=" + dir + "/bad.conf", "--once"}, dir + "/bad.log"));
  ASSERT_OK_AND_ASSIGN(int bst, broken->Wait(absl::Seconds(30)));
  EXPECT_TRUE(WIFEXITED(bst) && WEXITSTATUS(bst) == 2) << broken->Log();
  EXPECT_THAT(broken->Log(), ::testing::HasSubstr("concurrency"));

  channel.reset();
  ASSERT_OK(peer->Signal(SIGTERM));
  ASSERT_OK(peer->Wait(absl::Seconds(30)).status());
}

INSTANTIATE_TEST_SUITE_P(Both, BinariesTest,
                         ::testing::Values(Binary{"peer", "dbrepl.v1.ReplicationPeer", {"--mount_check=false"}},
                                           Binary{"agent", "dbrepl.v1.ReplicationAgent", {"--mount_check=false"}}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace dbrepl::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    fprintf(stderr, "usage: %s PEER_BINARY AGENT_BINARY\n", argv[0]);
    return 2;
  }
  dbrepl::testing::g_peer_binary = argv[1];
  dbrepl::testing::g_agent_binary = argv[2];
  return RUN_ALL_TESTS();
}
