// The peer's own rsync daemon, for real: a file pushed with the rsync client
// to Swift's module path lands in <device>/tmp/, and a daemon that dies is
// restarted by the supervisor.
#include "peer/rsync_daemon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl::peer {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(RsyncdConfTest, HasSwiftModulesAndPerDeviceModules) {
  RsyncDaemonOptions o;
  o.devices = "/srv/node";
  o.device_names = {"sdb1"};
  o.state_dir = "/run/x";
  std::string conf = RsyncdConf(o);
  for (const char* module : {"[account]", "[container]", "[account_sdb1]", "[container_sdb1]"}) {
    EXPECT_THAT(conf, ::testing::HasSubstr(module));
  }
  EXPECT_THAT(conf, ::testing::HasSubstr("path = /srv/node\n"));
  EXPECT_THAT(conf, ::testing::HasSubstr("read only = false"));
}

TEST(RsyncDaemonTest, ReceivesFilesIntoDeviceTmpAndIsRestartedWhenItDies) {
  std::string root = absl::StrCat(getenv("TEST_TMPDIR"), "/rsyncd");
  ASSERT_OK(MakeDirs(root + "/devices/sda/tmp"));
  RsyncDaemonOptions o;
  o.address = "127.0.0.1";
  o.port = FreePort();
  o.devices = root + "/devices";
  o.device_names = {"sda"};
  o.state_dir = root + "/state";
  RsyncDaemon daemon(o);
  ASSERT_OK(daemon.Start());
  ASSERT_OK(daemon.WaitUntilListening(absl::Seconds(20)));

  std::string src = root + "/upload.db";
  { std::ofstream(src) << "database bytes"; }
  auto push = [&](const std::string& module, const std::string& name) {
    std::string cmd = absl::StrCat("rsync --quiet --no-motd --timeout=10 --contimeout=5 --whole-file ", src,
                                   " rsync://127.0.0.1:", o.port, "/", module, "/sda/tmp/", name);
    return std::system(cmd.c_str());
  };
  EXPECT_EQ(push("container", "id-1"), 0);
  EXPECT_TRUE(PathExists(root + "/devices/sda/tmp/id-1"));
  EXPECT_EQ(push("container_sda", "id-2"), 0);  // Per-device module.
  EXPECT_TRUE(PathExists(root + "/devices/sda/tmp/id-2"));

  // Kill the daemon: the supervisor starts a new one.
  pid_t first = daemon.pid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(daemon.WaitForStarts(2, absl::Seconds(20)));
  EXPECT_NE(daemon.pid(), first);
  ASSERT_OK(daemon.WaitUntilListening(absl::Seconds(20)));
  EXPECT_EQ(push("account", "id-3"), 0);
  EXPECT_TRUE(PathExists(root + "/devices/sda/tmp/id-3"));
  daemon.Stop();
}

}  // namespace
}  // namespace dbrepl::peer
