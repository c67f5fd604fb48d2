// IP address and hostname checks as Swift's utils does them.
//
//   NormalizeIp("FD00:0:0::2") == "fd00::2"     (Swift's expand_ipv6)
//   IsValidHostname("node-1.example.com")
//
// Pure functions, thread-safe.
#ifndef DBREPL_COMMON_NET_IP_ADDRESS_H_
#define DBREPL_COMMON_NET_IP_ADDRESS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace dbrepl {

bool IsValidIpv4(absl::string_view ip);
bool IsValidIpv6(absl::string_view ip);
inline bool IsValidIp(absl::string_view ip) { return IsValidIpv4(ip) || IsValidIpv6(ip); }

// An IPv6 literal in its canonical text form (inet_ntop(inet_pton(x)):
// lowercase, zeros compressed); anything else unchanged.
std::string NormalizeIp(absl::string_view ip);

// Swift's is_valid_hostname: 1 to 255 characters, one trailing dot allowed,
// each label 1 to 63 of [A-Za-z0-9-] not starting or ending with '-'.
bool IsValidHostname(absl::string_view hostname);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_NET_IP_ADDRESS_H_
