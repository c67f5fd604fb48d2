#include "common/hash_path.h"

#include <openssl/md5.h>

#include "absl/strings/str_cat.h"

namespace dbrepl {

Md5Digest Md5(absl::string_view data) {
  Md5Digest out;
  // MD5() is deprecated in OpenSSL 3 in favour of EVP, but it is exact,
  // allocation-free and fine for a non-security hash.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  MD5(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
#pragma GCC diagnostic pop
  return out;
}

std::string DigestToHex(const Md5Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(32, '0');
  for (int i = 0; i < 16; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string Md5Hex(absl::string_view data) { return DigestToHex(Md5(data)); }

Md5Digest HashPathRaw(const HashPathConfig& cfg, absl::string_view account,
                      absl::string_view container, absl::string_view object) {
  std::string path = absl::StrCat(cfg.prefix, "/", account);
  if (!container.empty()) absl::StrAppend(&path, "/", container);
  if (!object.empty()) absl::StrAppend(&path, "/", object);
  absl::StrAppend(&path, cfg.suffix);
  return Md5(path);
}

std::string HashPath(const HashPathConfig& cfg, absl::string_view account,
                     absl::string_view container, absl::string_view object) {
  return DigestToHex(HashPathRaw(cfg, account, container, object));
}

uint32_t PartitionKey(const HashPathConfig& cfg, absl::string_view account, absl::string_view container) {
  Md5Digest d = HashPathRaw(cfg, account, container);
  return (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | uint32_t{d[3]};
}

std::string HashPathCheck(const HashPathConfig& cfg) {
  Md5Digest d = HashPathRaw(cfg, "dbrepl-hash-path-check");
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace dbrepl
