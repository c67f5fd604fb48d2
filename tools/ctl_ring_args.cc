#include "tools/ctl_ring_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/swift_conf.h"

namespace dbrepl::ctl {

// account or container, from --type or the ring's file name.
absl::StatusOr<DbType> RingType(const CtlArgs& args, const std::string& path) {
  if (args.Has("type")) {
    absl::optional<DbType> t = ParseDbType(args.Get("type"));
    if (!t.has_value()) return absl::InvalidArgumentError("--type must be account or container");
    return *t;
  }
  const std::string base = path.substr(path.rfind('/') + 1);
  if (absl::StartsWith(base, "account")) return DbType::kAccount;
  if (absl::StartsWith(base, "container")) return DbType::kContainer;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell from the name '", base, "' whether this is an account or container ring; give --type"));
}

absl::StatusOr<HashPathConfig> HashConfig(const CtlArgs& args) {
  if (args.Has("hash_path_prefix") || args.Has("hash_path_suffix")) {
    HashPathConfig c{args.Get("hash_path_prefix"), args.Get("hash_path_suffix")};
    if (c.prefix.empty() && c.suffix.empty()) {
      return absl::InvalidArgumentError("--hash-path-prefix and --hash-path-suffix are both empty");
    }
    return c;
  }
  return LoadHashPathConfig(SwiftConfPath(args.Get("swift_dir", "/etc/swift")));
}

}  // namespace dbrepl::ctl
