#include "peer/db_locator.h"

#include <sys/statvfs.h>

#include "absl/strings/str_cat.h"
#include "common/devices/check_drive.h"
#include "common/errors.h"
#include "common/paths.h"
#include "common/rpc/proto_convert.h"

namespace dbrepl::peer {

absl::Status CheckPlainPath(Env* env, const LocatedDb& db) {
  // <device>/<datadir>/<part>/<suffix>/<hash>/<hash>.db, from the top.
  std::string path = db.device_path;
  const std::string rel = db.db_file.substr(db.device_path.size() + 1);
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string component = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    path = JoinPath(path, component);
    absl::StatusOr<FileInfo> info = env->Lstat(path);
    if (!info.ok()) {
      if (absl::IsNotFound(info.status())) return absl::OkStatus();
      return info.status();
    }
    if (info->is_symlink()) {
      return InvalidRequestError(absl::StrCat(path, " is a symlink; refusing to follow it for ", db.LogName()));
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return absl::OkStatus();
}

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
  if (fallocate_reserve_ > 0) {
    struct statvfs fs;
    if (statvfs(db.device_path.c_str(), &fs) == 0) {
      const double total = static_cast<double>(fs.f_blocks) * fs.f_frsize;
      const double free = static_cast<double>(fs.f_bavail) * fs.f_frsize;
      const bool enough = reserve_is_percent_ ? (total > 0 && free * 100.0 / total > fallocate_reserve_)
                                              : free > fallocate_reserve_;
      if (!enough) {
        return DeviceUnavailableError(absl::StrCat(db.device, " has ", static_cast<int64_t>(free),
                                                   " bytes free, not more than fallocate_reserve ",
                                                   fallocate_reserve_, reserve_is_percent_ ? "%" : " bytes"));
      }
    }
  }
  db.db_file = DbFilePath(devices_, db.device, db.type, db.partition, db.hash);
  db.tmp_dir = DeviceTmpDir(devices_, db.device);
  return db;
}

}  // namespace dbrepl::peer
