#include "common/net/my_ips.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/net/ip_address.h"

namespace dbrepl {
namespace {

// The numeric text of an AF_INET/AF_INET6 sockaddr, or "" for others.
std::string SockaddrIp(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN];
  if (sa->sa_family == AF_INET) {
    if (inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof(buf))) return buf;
  } else if (sa->sa_family == AF_INET6) {
    // inet_ntop never adds the %scope that Swift strips.
    if (inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof(buf))) return buf;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WhatAreMyIps(absl::string_view bind_ip) {
  if (!bind_ip.empty()) {
    addrinfo hints = {};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    if (getaddrinfo(std::string(bind_ip).c_str(), nullptr, &hints, &res) == 0 && res != nullptr) {
      const std::string ip = SockaddrIp(res->ai_addr);
      freeaddrinfo(res);
      if (ip != "0.0.0.0" && ip != "::") return std::vector<std::string>{NormalizeIp(bind_ip)};
    }
  }
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return absl::ErrnoToStatus(errno, "getifaddrs");
  absl::Cleanup free_ifs = [ifs] { freeifaddrs(ifs); };
  std::vector<std::string> ips;
  for (const ifaddrs* ifa = ifs; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) continue;
    std::string ip = SockaddrIp(ifa->ifa_addr);
    if (!ip.empty()) ips.push_back(std::move(ip));
  }
  return ips;
}

bool IsLocalDevice(const std::vector<std::string>& my_ips, absl::optional<int> my_port, absl::string_view dev_ip,
                   int dev_port) {
  if (my_port.has_value() && dev_port != *my_port) return false;
  std::vector<std::string> candidates;
  if (!IsValidIp(dev_ip) && IsValidHostname(dev_ip)) {
    addrinfo hints = {};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(std::string(dev_ip).c_str(), absl::StrCat(dev_port).c_str(), &hints, &res) != 0) return false;
    for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) candidates.push_back(SockaddrIp(ai->ai_addr));
    freeaddrinfo(res);
  } else {
    candidates.push_back(NormalizeIp(dev_ip));
  }
  for (const std::string& mine : my_ips) {
    const std::string normalized = NormalizeIp(mine);
    if (std::find(candidates.begin(), candidates.end(), normalized) != candidates.end()) return true;
  }
  return false;
}

}  // namespace dbrepl
