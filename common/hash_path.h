// MD5 and Swift's hash_path: how Swift names and places every account and
// container.
//
//   HashPathConfig cfg{.prefix = "", .suffix = "changeme"};
//   HashPath(cfg, "a", "c") == "e8fbcd486a77117e2cd3398aa1f9485f"
//
// hash_path = md5(prefix + "/" + "/".join(parts) + suffix), where the prefix
// and suffix are the cluster's secrets from swift.conf [swift-hash]. The ring
// places a database by the first four bytes of the raw digest; the database
// file is named by its hex form. Uses OpenSSL's libcrypto MD5. Pure and
// thread-safe.
#ifndef DBREPL_COMMON_HASH_PATH_H_
#define DBREPL_COMMON_HASH_PATH_H_

#include <array>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace dbrepl {

using Md5Digest = std::array<uint8_t, 16>;

Md5Digest Md5(absl::string_view data);
// 32 lowercase hex digits.
std::string Md5Hex(absl::string_view data);
std::string DigestToHex(const Md5Digest& digest);

// The cluster's [swift-hash] secrets. At least one must be set for a valid
// cluster (Swift refuses to start otherwise); loading is config's job.
struct HashPathConfig {
  std::string prefix;
  std::string suffix;
};

// Raw digest of hash_path(account[, container[, object]]). Empty trailing
// parts are omitted, as Swift does.
Md5Digest HashPathRaw(const HashPathConfig& cfg, absl::string_view account,
                      absl::string_view container = {}, absl::string_view object = {});

// Hex form: the database's file name and directory.
std::string HashPath(const HashPathConfig& cfg, absl::string_view account,
                     absl::string_view container = {}, absl::string_view object = {});

// The first four bytes of HashPathRaw(account[, container]), big-endian: a
// ring's partition for these names is its top part_power bits.
uint32_t PartitionKey(const HashPathConfig& cfg, absl::string_view account, absl::string_view container = {});

// 16 bytes that differ between two configs with different secrets (the raw
// hash path of a fixed name, as a directory listing shows for any name):
// two processes compare their configs without sending them.
std::string HashPathCheck(const HashPathConfig& cfg);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_HASH_PATH_H_
