#include "common/config/swift_conf.h"

#include "absl/strings/str_cat.h"
#include "common/config/ini_file.h"
#include "common/paths.h"
#include "common/status_macros.h"

namespace dbrepl {

std::string SwiftConfPath(absl::string_view swift_dir) { return JoinPath(swift_dir, "swift.conf"); }

absl::StatusOr<HashPathConfig> LoadHashPathConfig(const std::string& swift_conf_path) {
  ASSIGN_OR_RETURN(IniFile ini, IniFile::Load(swift_conf_path));
  HashPathConfig config;
  if (ini.HasSection("swift-hash")) {
    ASSIGN_OR_RETURN(absl::optional<std::string> prefix,
                     ini.Get("swift-hash", "swift_hash_path_prefix", Interpolation::kAlways));
    ASSIGN_OR_RETURN(absl::optional<std::string> suffix,
                     ini.Get("swift-hash", "swift_hash_path_suffix", Interpolation::kAlways));
    config.prefix = prefix.value_or("");
    config.suffix = suffix.value_or("");
  }
  if (config.prefix.empty() && config.suffix.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "[swift-hash]: both swift_hash_path_suffix and swift_hash_path_prefix are missing from ", swift_conf_path));
  }
  return config;
}

}  // namespace dbrepl
