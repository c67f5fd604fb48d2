// Is a device usable? Swift's constraints.check_drive() and utils.ismount().
//
//   ASSIGN_OR_RETURN(std::string dev_path, CheckDrive(config.devices, "sdb1", config.mount_check));
//
// The replicator skips a device that fails (Swift's Replicator.run_once counts
// a failure for every ring device and logs "Skipping"); the
// replication service answers a request for it with DEVICE_UNAVAILABLE
// (Swift's 507), so the sender moves on to a handoff.
//
// Thread-safe (stat calls only).
#ifndef DBREPL_COMMON_DEVICES_CHECK_DRIVE_H_
#define DBREPL_COMMON_DEVICES_CHECK_DRIVE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

// Swift's ismount(): true if `path` is a mount point: its parent is on
// another filesystem (st_dev differs) or is the same inode ("/"), or the
// operator placed a `.ismount` file in it (containers, where the first two
// tests fail; a symlinked device counts only with that file). False if the
// path does not exist or cannot be examined.
bool IsMount(const std::string& path);

// "<root>/<device>" if `device` is a valid device name (common/paths.h
// ValidateDeviceName) and the path is a mount point (mount_check) or, without
// mount_check, a directory. Otherwise DeviceUnavailableError
// (common/errors.h) with Swift's messages: "<device> is not a valid drive
// name", "<path> is not mounted", "<path> is not a directory".
absl::StatusOr<std::string> CheckDrive(absl::string_view root, absl::string_view device, bool mount_check);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DEVICES_CHECK_DRIVE_H_
