// Swift's check_drive: is <devices>/<device> usable?
//
// The device name must be a plain name (common/paths.h); with mount_check the
// path must be a mount point, otherwise a directory. Pure filesystem reads;
// thread-safe.
#ifndef DBREPL_COMMON_DEVICE_CHECK_H_
#define DBREPL_COMMON_DEVICE_CHECK_H_

#include <string>

#include "absl/status/statusor.h"

namespace dbrepl {

// Returns "<devices>/<device>". INVALID_ARGUMENT (reason INVALID_DB_REF) for a
// bad name; FAILED_PRECONDITION (reason DEVICE_UNAVAILABLE) when the device is
// not mounted (mount_check) or not a directory.
absl::StatusOr<std::string> CheckDrive(const std::string& devices, const std::string& device, bool mount_check);

// True if `path` is a mount point: its st_dev differs from its parent's, or
// it is its parent (the root).
bool IsMountPoint(const std::string& path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DEVICE_CHECK_H_
