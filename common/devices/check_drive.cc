#include "common/devices/check_drive.h"

#include <sys/stat.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/paths.h"

namespace dbrepl {
namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

bool IsMount(const std::string& path) {
  struct stat self;
  if (lstat(path.c_str(), &self) != 0) return false;
  const std::string stub = JoinPath(path, ".ismount");
  if (S_ISLNK(self.st_mode)) return IsRegularFile(stub);
  struct stat parent;
  if (lstat(JoinPath(path, "..").c_str(), &parent) != 0) return false;
  if (self.st_dev != parent.st_dev) return true;
  if (self.st_ino == parent.st_ino) return true;
  return IsRegularFile(stub);
}

absl::StatusOr<std::string> CheckDrive(absl::string_view root, absl::string_view device, bool mount_check) {
  if (!ValidateDeviceName(device).ok()) {
    return DeviceUnavailableError(absl::StrCat(absl::CHexEscape(device), " is not a valid drive name"));
  }
  std::string path = JoinPath(root, device);
  if (mount_check) {
    if (!IsMount(path)) return DeviceUnavailableError(absl::StrCat(path, " is not mounted"));
  } else {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return DeviceUnavailableError(absl::StrCat(path, " is not a directory"));
    }
  }
  return path;
}

}  // namespace dbrepl
