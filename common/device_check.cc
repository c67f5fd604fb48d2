#include "common/device_check.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/error_model.h"
#include "common/paths.h"

namespace dbrepl {

bool IsMountPoint(const std::string& path) {
  struct stat st, parent;
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  if (lstat((path + "/..").c_str(), &parent) != 0) return false;
  return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

absl::StatusOr<std::string> CheckDrive(const std::string& devices, const std::string& device, bool mount_check) {
  if (absl::Status s = ValidateDeviceName(device); !s.ok()) return InvalidDbRefError(s.message());
  std::string path = JoinPath(devices, device);
  if (mount_check) {
    if (!IsMountPoint(path)) return DeviceUnavailableError(absl::StrCat(device, " is not mounted"));
  } else {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return DeviceUnavailableError(absl::StrCat(device, " is not a directory under ", devices));
    }
  }
  return path;
}

}  // namespace dbrepl
