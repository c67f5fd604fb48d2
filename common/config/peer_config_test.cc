#include "common/config/peer_config.h"

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

absl::StatusOr<PeerConfig> FromText(const std::string& text, DbType type = DbType::kContainer) {
  absl::StatusOr<IniFile> ini = IniFile::Parse(text, "peer.conf");
  if (!ini.ok()) return ini.status();
  absl::StatusOr<ConfigSection> section = PeerConfigSection(*ini, type);
  if (!section.ok()) return section.status();
  return PeerConfig::FromSection(*section, type);
}

TEST(PeerConfigTest, ReadsTheServerAppSectionAsPasteDeployDoes) {
  const std::string path = WriteTempConfig("container-server.conf", kContainerServerConf);
  ASSERT_OK_AND_ASSIGN(PeerConfig c, LoadPeerConfig(path, DbType::kContainer));
  EXPECT_EQ(c.devices, "/srv/node");
  EXPECT_FALSE(c.mount_check);
  EXPECT_EQ(c.bind_ip, "10.0.0.5");
  EXPECT_EQ(c.bind_port, 6201);  // [DEFAULT]'s, not the app section's 9999
  EXPECT_EQ(c.swift_dir, "/srv/swift");
  EXPECT_EQ(c.fallocate_reserve, 2);
  EXPECT_TRUE(c.fallocate_reserve_is_percent);
}

TEST(PeerConfigTest, DefaultsWithoutAppSection) {
  ASSERT_OK_AND_ASSIGN(PeerConfig c, FromText("", DbType::kAccount));
  EXPECT_EQ(c.bind_port, 6202);
  EXPECT_EQ(c.devices, "/srv/node");
  EXPECT_TRUE(c.mount_check);
  EXPECT_EQ(c.bind_ip, "0.0.0.0");
  EXPECT_EQ(c.swift_dir, "/etc/swift");
  EXPECT_EQ(c.fallocate_reserve, 1);
  EXPECT_TRUE(c.fallocate_reserve_is_percent);
  ASSERT_OK_AND_ASSIGN(PeerConfig d, FromText("[DEFAULT]\ndevices = /d\n"));
  EXPECT_EQ(d.devices, "/d");
}

TEST(PeerConfigTest, SetInAppSectionAndDbreplPeerSectionOverride) {
  ASSERT_OK_AND_ASSIGN(PeerConfig set, FromText("[DEFAULT]\nbind_port = 6201\n[app:container-server]\n"
                                                "set bind_port = 6211\n"));
  EXPECT_EQ(set.bind_port, 6211);
  // [dbrepl-peer] wins with the keys it sets itself; [DEFAULT]'s bind_port,
  // which it inherits, does not undo the app section's "set".
  ASSERT_OK_AND_ASSIGN(PeerConfig peer, FromText("[DEFAULT]\nbind_port = 6201\ndevices = /srv/node\n"
                                                 "[app:container-server]\nset bind_port = 6211\n"
                                                 "[dbrepl-peer]\nbind_ip = 10.1.0.5\nfallocate_reserve = 1048576\n"));
  EXPECT_EQ(peer.bind_port, 6211);
  EXPECT_EQ(peer.bind_ip, "10.1.0.5");
  EXPECT_EQ(peer.fallocate_reserve, 1048576);
  EXPECT_FALSE(peer.fallocate_reserve_is_percent);
  ASSERT_OK_AND_ASSIGN(PeerConfig port, FromText("[DEFAULT]\nbind_port = 6201\n[dbrepl-peer]\nbind_port = 6301\n"));
  EXPECT_EQ(port.bind_port, 6301);
}

TEST(PeerConfigTest, BadValuesNameTheOption) {
  absl::StatusOr<PeerConfig> port = FromText("[DEFAULT]\nbind_port = http\n");
  EXPECT_THAT(port, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(port.status().message()), HasSubstr("invalid bind_port = 'http' in [app:container-server]"));
  EXPECT_THAT(FromText("[dbrepl-peer]\nfallocate_reserve = 101%\n"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FromText("[dbrepl-peer]\nfallocate_reserve = lots\n"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FromText("[dbrepl-peer]\nfallocate_reserve = 0.5%\n")->fallocate_reserve, 0.5);
}

}  // namespace
}  // namespace dbrepl
