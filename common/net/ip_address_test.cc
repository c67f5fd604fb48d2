#include "common/net/ip_address.h"

#include <string>

#include "gtest/gtest.h"

namespace dbrepl {
namespace {

TEST(IpAddressTest, Validity) {
  EXPECT_TRUE(IsValidIpv4("10.0.0.1"));
  EXPECT_FALSE(IsValidIpv4("10.0.0"));
  EXPECT_FALSE(IsValidIpv4("::1"));
  EXPECT_TRUE(IsValidIpv6("::1"));
  EXPECT_TRUE(IsValidIpv6("FD00:0:0:0:0:0:0:2"));
  EXPECT_FALSE(IsValidIpv6("10.0.0.1"));
  EXPECT_FALSE(IsValidIp("node1"));
  EXPECT_FALSE(IsValidIp(""));
}

TEST(IpAddressTest, NormalizeIpCanonicalisesIpv6Only) {
  EXPECT_EQ(NormalizeIp("FD00:0:0:0:0:0:0:2"), "fd00::2");
  EXPECT_EQ(NormalizeIp("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(NormalizeIp("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(NormalizeIp("Node1"), "Node1");
}

TEST(IpAddressTest, HostnamesAsSwiftChecksThem) {
  EXPECT_TRUE(IsValidHostname("localhost"));
  EXPECT_TRUE(IsValidHostname("node-1.example.com."));
  EXPECT_TRUE(IsValidHostname("10.0.0.1"));  // all-numeric labels are allowed
  EXPECT_FALSE(IsValidHostname(""));
  EXPECT_FALSE(IsValidHostname("-node"));
  EXPECT_FALSE(IsValidHostname("node-"));
  EXPECT_FALSE(IsValidHostname("a..b"));
  EXPECT_FALSE(IsValidHostname("under_score"));
  EXPECT_FALSE(IsValidHostname(std::string(64, 'a')));
  EXPECT_TRUE(IsValidHostname(std::string(63, 'a')));
  EXPECT_FALSE(IsValidHostname(std::string(128, 'a') + "." + std::string(127, 'b')));  // 256 chars
}

}  // namespace
}  // namespace dbrepl
