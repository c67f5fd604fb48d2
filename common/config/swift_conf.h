// The cluster's hash path secrets, from swift.conf [swift-hash]
// (swift_hash_path_prefix, swift_hash_path_suffix), read as Swift's
// validate_hash_conf() reads them: a plain ConfigParser (so "%%" is "%"
// and a lone "%" is an error), and at least one of the two must be set.
//
//   ASSIGN_OR_RETURN(HashPathConfig hash, LoadHashPathConfig(SwiftConfPath("/etc/swift")));
//
// Stateless; reads the file on every call.
#ifndef DBREPL_COMMON_CONFIG_SWIFT_CONF_H_
#define DBREPL_COMMON_CONFIG_SWIFT_CONF_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/hash_path.h"

namespace dbrepl {

// "<swift_dir>/swift.conf".
std::string SwiftConfPath(absl::string_view swift_dir);

// NOT_FOUND (or another errno code) if the file cannot be read;
// INVALID_ARGUMENT on a syntax error or when both values are missing or
// empty, with Swift's message "[swift-hash]: both swift_hash_path_suffix
// and swift_hash_path_prefix are missing from <path>".
absl::StatusOr<HashPathConfig> LoadHashPathConfig(const std::string& swift_conf_path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_SWIFT_CONF_H_
