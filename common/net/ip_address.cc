#include "common/net/ip_address.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace dbrepl {

bool IsValidIpv4(absl::string_view ip) {
  in_addr addr;
  return inet_pton(AF_INET, std::string(ip).c_str(), &addr) == 1;
}

bool IsValidIpv6(absl::string_view ip) {
  in6_addr addr;
  return inet_pton(AF_INET6, std::string(ip).c_str(), &addr) == 1;
}

std::string NormalizeIp(absl::string_view ip) {
  in6_addr addr;
  if (inet_pton(AF_INET6, std::string(ip).c_str(), &addr) != 1) return std::string(ip);
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &addr, buf, sizeof(buf)) == nullptr) return std::string(ip);
  return buf;
}

bool IsValidHostname(absl::string_view hostname) {
  if (hostname.empty() || hostname.size() > 255) return false;
  if (hostname.back() == '.') hostname.remove_suffix(1);
  for (absl::string_view label : absl::StrSplit(hostname, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

}  // namespace dbrepl
