#include "peer/db_locator.h"

#include "absl/strings/str_cat.h"
#include "common/devices/check_drive.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"

namespace dbrepl::peer {

std::string LocatedDb::LogName() const { return absl::StrCat(device, "/", partition, "/", hash); }

absl::Status DbLocator::Validate(const v1::DbRef& ref) { return ValidateDbRef(ref).status(); }

absl::StatusOr<LocatedDb> DbLocator::Locate(const v1::DbRef& ref) const {
  absl::StatusOr<DbType> type = ValidateDbRef(ref);
  if (!type.ok()) return type.status();
  LocatedDb db;
  db.type = *type;
  db.device = ref.device();
  db.partition = ref.partition();
  db.hash = ref.hash();
  absl::StatusOr<std::string> device_path = CheckDrive(devices_, db.device, mount_check_);
  if (!device_path.ok()) return device_path.status();
  db.device_path = *device_path;
  db.db_file = DbFilePath(devices_, db.device, db.type, db.partition, db.hash);
  db.tmp_dir = DeviceTmpDir(devices_, db.device);
  return db;
}

}  // namespace dbrepl::peer
