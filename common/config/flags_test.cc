#include "common/config/flags.h"

#include "common/config/testing/config_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::kContainerServerConf;
using ::dbrepl::testing::StatusIs;
using ::dbrepl::testing::WriteTempConfig;
using ::testing::HasSubstr;

// Each test restores every flag it touches.
class FlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;
};

TEST_F(FlagsTest, WithoutConfAndFlagsGivesSwiftDefaults) {
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig c, LoadReplicatorConfigFromFlags());
  EXPECT_EQ(c.type, DbType::kContainer);
  EXPECT_EQ(c.per_diff, 1000);
  EXPECT_EQ(c.bind_port, 6201);
  gflags::SetCommandLineOption("server_type", "account");
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig a, LoadReplicatorConfigFromFlags());
  EXPECT_EQ(a.bind_port, 6202);  // the type's default: the unset flag's 6201 does not leak in
  ASSERT_OK_AND_ASSIGN(PeerConfig p, LoadPeerConfigFromFlags());
  EXPECT_EQ(p.bind_port, 6202);
}

TEST_F(FlagsTest, ExplicitFlagsOverrideTheFileOthersDoNot) {
  gflags::SetCommandLineOption("conf", WriteTempConfig("container-server.conf", kContainerServerConf).c_str());
  gflags::SetCommandLineOption("per_diff", "77");
  gflags::SetCommandLineOption("mount_check", "true");
  gflags::SetCommandLineOption("interval", "0.25");
  gflags::SetCommandLineOption("handoff_delete", "auto");
  gflags::SetCommandLineOption("rsync_module", "{replication_ip}::c_{device}/");
  ASSERT_OK_AND_ASSIGN(ReplicatorConfig c, LoadReplicatorConfigFromFlags());
  EXPECT_EQ(c.per_diff, 77);           // flag over file's 2000
  EXPECT_TRUE(c.mount_check);          // flag over file's false
  EXPECT_EQ(c.interval, 0.25);         // flag over file's 45.5
  EXPECT_EQ(c.handoff_delete, 0);      // flag's auto over file's 2
  EXPECT_EQ(c.rsync_module, "{replication_ip}::c_{device}");  // parsed as the option is
  EXPECT_EQ(c.max_diffs, 50);          // file's; the flag was not given
  EXPECT_EQ(c.concurrency, 4);         // file's
  EXPECT_EQ(c.bind_ip, "10.0.0.5");    // file's [DEFAULT]

  gflags::SetCommandLineOption("bind_port", "6301");
  ASSERT_OK_AND_ASSIGN(PeerConfig p, LoadPeerConfigFromFlags());
  EXPECT_EQ(p.bind_port, 6301);
  EXPECT_TRUE(p.mount_check);
  EXPECT_EQ(p.swift_dir, "/srv/swift");
  EXPECT_EQ(p.fallocate_reserve, 2);
}

TEST_F(FlagsTest, OverlayOnlyTouchesExplicitFlags) {
  ConfigSection s;
  s.values["devices"] = "/from/file";
  s.values["concurrency"] = "3";
  gflags::SetCommandLineOption("concurrency", "12");
  OverlayExplicitFlags({"devices", "concurrency", "no_such_flag"}, &s);
  EXPECT_EQ(s.Get("devices"), "/from/file");
  EXPECT_EQ(s.Get("concurrency"), "12");
  EXPECT_EQ(s.command_line_keys, std::set<std::string>{"concurrency"});
}

TEST_F(FlagsTest, BadFlagValuesNameTheFlag) {
  gflags::SetCommandLineOption("handoff_delete", "most");
  absl::StatusOr<ReplicatorConfig> c = LoadReplicatorConfigFromFlags();
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("invalid --handoff_delete='most'"));
  gflags::SetCommandLineOption("handoff_delete", "auto");
  gflags::SetCommandLineOption("server_type", "object");
  EXPECT_THAT(LoadReplicatorConfigFromFlags(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(FlagsTest, MissingSectionInConfIsAnError) {
  gflags::SetCommandLineOption("conf", WriteTempConfig("c.conf", "[DEFAULT]\n").c_str());
  EXPECT_THAT(LoadReplicatorConfigFromFlags(), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(PeerConfig p, LoadPeerConfigFromFlags());  // the app section is optional
  EXPECT_EQ(p.bind_port, 6201);
}

}  // namespace
}  // namespace dbrepl
