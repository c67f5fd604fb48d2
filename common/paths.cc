#include "common/paths.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dbrepl {
namespace {

absl::Status ValidatePlainName(absl::string_view what, absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (name.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is longer than 255 bytes"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "' is not a plain name"));
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    // Swift requires quote_plus(device) == device: only [A-Za-z0-9_.-~] pass
    // unquoted. We are as strict, which also excludes '/', NUL and spaces.
    if (!(absl::ascii_isalnum(u) || c == '_' || c == '.' || c == '-' || c == '~')) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", absl::CHexEscape(name), "' contains a character other than [A-Za-z0-9_.~-]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDeviceName(absl::string_view device) { return ValidatePlainName("device", device); }

absl::Status ValidateFileName(absl::string_view name) { return ValidatePlainName("file name", name); }

absl::Status ValidateHash(absl::string_view hash) {
  if (hash.size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash '", absl::CHexEscape(hash.substr(0, 64)), "' is not 32 hex digits"));
  }
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError(
          absl::StrCat("hash '", absl::CHexEscape(hash), "' is not 32 lowercase hex digits"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePartition(int64_t partition) {
  if (partition < 0 || partition > 0xffffffffLL) {
    return absl::InvalidArgumentError(absl::StrCat("partition ", partition, " is out of range [0, 2^32)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParsePartition(absl::string_view name) {
  if (name.empty() || name.size() > 10) {
    return absl::InvalidArgumentError(absl::StrCat("'", absl::CHexEscape(name), "' is not a partition"));
  }
  for (char c : name) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("'", absl::CHexEscape(name), "' is not a partition"));
    }
  }
  int64_t p = 0;
  if (!absl::SimpleAtoi(name, &p)) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a partition"));
  }
  if (absl::Status s = ValidatePartition(p); !s.ok()) return s;
  return p;
}

std::string StorageDirectory(DbType type, int64_t partition, absl::string_view hash) {
  absl::string_view suffix = hash.size() >= 3 ? hash.substr(hash.size() - 3) : hash;
  return absl::StrCat(Datadir(type), "/", partition, "/", suffix, "/", hash);
}

std::string DbFilePath(absl::string_view devices, absl::string_view device, DbType type,
                       int64_t partition, absl::string_view hash) {
  return absl::StrCat(StripTrailingSlashes(devices), "/", device, "/",
                      StorageDirectory(type, partition, hash), "/", hash, ".db");
}

std::string DeviceTmpDir(absl::string_view devices, absl::string_view device) {
  return absl::StrCat(StripTrailingSlashes(devices), "/", device, "/tmp");
}

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  a = StripTrailingSlashes(a);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (a == "/") return absl::StrCat("/", b);
  return absl::StrCat(a, "/", b);
}

absl::string_view StripTrailingSlashes(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace dbrepl
