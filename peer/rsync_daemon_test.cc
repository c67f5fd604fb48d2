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
#include <sys/stat.h>
#include <unistd.h>
#include <functional>
#include <memory>

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

class RsyncDaemonHardeningTest : public ::testing::Test {
 protected:
  void Start(std::function<void(RsyncDaemonOptions&)> tweak = nullptr) {
    static int n = 0;
    root_ = absl::StrCat(getenv("TEST_TMPDIR"), "/hardened", ++n);
    ASSERT_OK(MakeDirs(root_ + "/devices/sda/tmp"));
    ASSERT_OK(MakeDirs(root_ + "/devices/sda/containers"));
    o_.address = "127.0.0.1";
    o_.port = FreePort();
    o_.devices = root_ + "/devices";
    o_.device_names = {"sda"};
    o_.state_dir = root_ + "/state";
    if (tweak) tweak(o_);
    daemon_ = std::make_unique<RsyncDaemon>(o_);
    ASSERT_OK(daemon_->Start());
    ASSERT_OK(daemon_->WaitUntilListening(absl::Seconds(20)));
    src_ = root_ + "/upload.db";
    std::ofstream(src_) << "database bytes";
  }
  int Push(const std::string& dest, const std::string& extra = "") {
    std::string cmd = absl::StrCat("rsync --quiet --no-motd --timeout=10 --contimeout=5 ", extra, " ", src_,
                                   " rsync://", dest.find('@') == std::string::npos ? "" : "", dest);
    return std::system(cmd.c_str());
  }
  std::string Module(const std::string& path, const std::string& user = "") {
    return absl::StrCat(user.empty() ? "" : user + "@", "127.0.0.1:", o_.port, "/container/", path);
  }
  std::string root_, src_;
  RsyncDaemonOptions o_;
  std::unique_ptr<RsyncDaemon> daemon_;
};

TEST_F(RsyncDaemonHardeningTest, UploadsGoToDeviceTmpAndNowhereElse) {
  Start();
  EXPECT_EQ(Push(Module("sda/tmp/ok")), 0);
  EXPECT_TRUE(PathExists(root_ + "/devices/sda/tmp/ok"));
  EXPECT_NE(Push(Module("sda/containers/evil.db")), 0);
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/containers/evil.db"));
  EXPECT_NE(Push(Module("evil")), 0);
  EXPECT_FALSE(PathExists(root_ + "/devices/evil"));
  // An uploaded symlink cannot be followed.
  ASSERT_EQ(symlink("/etc/passwd", (root_ + "/link").c_str()), 0);
  std::string cmd = absl::StrCat("rsync --quiet --no-motd --timeout=10 -l ", root_, "/link rsync://",
                                 Module("sda/tmp/link"));
  std::system(cmd.c_str());
  char target[256] = {0};
  ssize_t n = readlink((root_ + "/devices/sda/tmp/link").c_str(), target, sizeof(target) - 1);
  if (n > 0) EXPECT_EQ(std::string(target).rfind("/rsyncd-munged/", 0), 0u) << target;
}

TEST_F(RsyncDaemonHardeningTest, ABatchLandsInDeviceTmpButNotBelowIt) {
  Start();
  std::string staging = root_ + "/staging";
  ASSERT_OK(MakeDirs(staging + "/nested"));
  std::ofstream(staging + "/id-a") << "a";
  std::ofstream(staging + "/id-b") << "b";
  std::ofstream(staging + "/nested/deep") << "c";
  // The agent's batch push: one connection, every file of the staging dir.
  std::string cmd = absl::StrCat("rsync --quiet --no-motd --timeout=10 --contimeout=5 --dirs ", staging,
                                 "/ rsync://", Module("sda/tmp/"));
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(PathExists(root_ + "/devices/sda/tmp/id-a"));
  EXPECT_TRUE(PathExists(root_ + "/devices/sda/tmp/id-b"));
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/tmp/nested/deep"));
  // Recursing below tmp/, or naming the device itself, is refused.
  cmd = absl::StrCat("rsync --quiet --no-motd --timeout=10 --contimeout=5 -r ", staging, "/ rsync://",
                     Module("sda/"));
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(Push(Module("sda/tmp/nested/x")), 0);
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/tmp/nested/x"));
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/id-a"));
}

TEST_F(RsyncDaemonHardeningTest, AuthUsersNeedTheirPassword) {
  Start([&](RsyncDaemonOptions& o) {
    std::string secrets = absl::StrCat(getenv("TEST_TMPDIR"), "/rsyncd.secrets");
    std::ofstream(secrets) << "swift:s3cret\n";
    chmod(secrets.c_str(), 0600);
    o.auth_users = "swift";
    o.secrets_file = secrets;
  });
  EXPECT_NE(Push(Module("sda/tmp/anon")), 0);
  std::string password = root_ + "/password";
  std::ofstream(password) << "s3cret\n";
  chmod(password.c_str(), 0600);
  EXPECT_EQ(Push(Module("sda/tmp/authed", "swift"), "--password-file=" + password), 0);
  EXPECT_TRUE(PathExists(root_ + "/devices/sda/tmp/authed"));
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/tmp/anon"));
}

TEST_F(RsyncDaemonHardeningTest, HostsAllowFollowsTheList) {
  Start([](RsyncDaemonOptions& o) { o.hosts_allow = {"127.0.0.99"}; });
  EXPECT_NE(Push(Module("sda/tmp/refused")), 0);
  ASSERT_OK(daemon_->SetHostsAllow({"127.0.0.1", "127.0.0.99"}));  // Read at the next connection.
  EXPECT_EQ(Push(Module("sda/tmp/allowed")), 0);
  EXPECT_FALSE(PathExists(root_ + "/devices/sda/tmp/refused"));
}

}  // namespace
}  // namespace dbrepl::peer
