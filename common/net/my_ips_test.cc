#include "common/net/my_ips.h"

#include <algorithm>

#include "common/net/ip_address.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

TEST(WhatAreMyIpsTest, SpecificBindIpIsTheOnlyAnswer) {
  ASSERT_OK_AND_ASSIGN(auto ips, WhatAreMyIps("192.0.2.7"));  // need not be configured here
  EXPECT_THAT(ips, ElementsAre("192.0.2.7"));
  ASSERT_OK_AND_ASSIGN(auto v6, WhatAreMyIps("FD00:0::7"));
  EXPECT_THAT(v6, ElementsAre("fd00::7"));
}

TEST(WhatAreMyIpsTest, WildcardsAndEmptyListEveryInterfaceAddress) {
  for (const char* bind_ip : {"0.0.0.0", "::", "", "0:0:0:0:0:0:0:0"}) {
    ASSERT_OK_AND_ASSIGN(auto ips, WhatAreMyIps(bind_ip));
    EXPECT_THAT(ips, Contains("127.0.0.1")) << bind_ip;
    for (const std::string& ip : ips) {
      EXPECT_TRUE(IsValidIp(ip)) << ip;
      EXPECT_EQ(ip.find('%'), std::string::npos) << ip;
      EXPECT_EQ(NormalizeIp(ip), ip);
    }
  }
}

TEST(WhatAreMyIpsTest, HostnameBindIpListsInterfacesAsSwiftDoes) {
  ASSERT_OK_AND_ASSIGN(auto ips, WhatAreMyIps("localhost"));
  EXPECT_THAT(ips, Contains("127.0.0.1"));
}

TEST(IsLocalDeviceTest, ComparesIpAndPort) {
  const std::vector<std::string> mine = {"10.0.0.1", "fd00::1"};
  EXPECT_TRUE(IsLocalDevice(mine, 6201, "10.0.0.1", 6201));
  EXPECT_FALSE(IsLocalDevice(mine, 6201, "10.0.0.1", 6202));
  EXPECT_FALSE(IsLocalDevice(mine, 6201, "10.0.0.2", 6201));
  EXPECT_TRUE(IsLocalDevice(mine, absl::nullopt, "10.0.0.1", 9999));
  // IPv6 compared in canonical form, on either side.
  EXPECT_TRUE(IsLocalDevice(mine, 6201, "FD00:0:0:0:0:0:0:1", 6201));
  EXPECT_TRUE(IsLocalDevice({"fd00:0::1"}, 6201, "fd00::1", 6201));
}

TEST(IsLocalDeviceTest, ResolvesHostnames) {
  EXPECT_TRUE(IsLocalDevice({"127.0.0.1"}, 6201, "localhost", 6201));
  EXPECT_FALSE(IsLocalDevice({"10.0.0.1"}, 6201, "localhost", 6201));
  EXPECT_FALSE(IsLocalDevice({"127.0.0.1"}, 6201, "no-such-host.invalid", 6201));
  EXPECT_FALSE(IsLocalDevice({"127.0.0.1"}, 6201, "not a hostname", 6201));
}

}  // namespace
}  // namespace dbrepl
