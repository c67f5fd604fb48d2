// DbLocator: turns a wire DbRef into paths on this node, after validating
// every component and checking the device (Swift's check_drive). Nothing
// outside `devices` is ever named: device, partition and hash are validated
// as plain path components first.
//
// Thread-safe (stateless after construction).
#ifndef DBREPL_PEER_DB_LOCATOR_H_
#define DBREPL_PEER_DB_LOCATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/db_type.h"
#include "common/env/env.h"
#include "dbrepl/v1/db.pb.h"

namespace dbrepl::peer {

struct LocatedDb {
  DbType type;
  std::string device;
  int64_t partition = 0;
  std::string hash;
  std::string device_path;  // <devices>/<device>
  std::string db_file;      // .../<hash>.db
  std::string tmp_dir;      // <devices>/<device>/tmp

  // "sdb1/123/<hash>" for log lines.
  std::string LogName() const;
};

// OK unless a directory between the device and the database (datadir,
// partition, suffix, hash directory) or the database file itself is a
// symlink: an rsync daemon writable over the devices root could plant one,
// and following it would let a call read or write outside the root. The
// device directory itself is the operator's and may be a link. Names that do
// not exist yet are fine. INVALID_ARGUMENT/INVALID_REQUEST naming the link.
absl::Status CheckPlainPath(Env* env, const LocatedDb& db);

class DbLocator {
 public:
  // `fallocate_reserve`: the free space a device must keep (Swift's option:
  // a percentage when `reserve_is_percent`, else bytes); 0 disables.
  DbLocator(std::string devices, bool mount_check, double fallocate_reserve = 0, bool reserve_is_percent = true)
      : devices_(std::move(devices)),
        mount_check_(mount_check),
        fallocate_reserve_(fallocate_reserve),
        reserve_is_percent_(reserve_is_percent) {}

  // INVALID_ARGUMENT/INVALID_DB_REF for a malformed ref;
  // FAILED_PRECONDITION/DEVICE_UNAVAILABLE if the device is not mounted
  // (mount_check), not a directory, or has no more free space than
  // fallocate_reserve (Swift's check_free_space: a full device answers 507
  // before anything is written, and the sender goes to a handoff).
  absl::StatusOr<LocatedDb> Locate(const v1::DbRef& ref) const;

  // Validation only (no disk access).
  static absl::Status Validate(const v1::DbRef& ref);

  const std::string& devices() const { return devices_; }
  bool mount_check() const { return mount_check_; }

 private:
  const std::string devices_;
  const bool mount_check_;
  const double fallocate_reserve_;
  const bool reserve_is_percent_;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_DB_LOCATOR_H_
