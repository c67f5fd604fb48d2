#include "peer/upload.h"

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "common/env/file_ops.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl::peer {
namespace {

constexpr char kInstallingSuffix[] = ".installing";

absl::Mutex in_use_mu(absl::kConstInit);
std::set<std::string>& InUse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(in_use_mu) {
  static auto* paths = new std::set<std::string>();
  return *paths;
}

void Release(const std::string& path) {
  absl::MutexLock lock(&in_use_mu);
  InUse().erase(path);
}

std::string RandomHex() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

}  // namespace

absl::StatusOr<Upload> Upload::Claim(Env* env, const LocatedDb& db, const std::string& tmp_name) {
  if (absl::Status s = ValidateFileName(tmp_name); !s.ok()) return InvalidRequestError(s.message());
  if (tmp_name[0] == '.') return InvalidRequestError(absl::StrCat("tmp_name '", tmp_name, "' may not start with '.'"));
  absl::StatusOr<FileInfo> dir = env->Lstat(db.tmp_dir);
  if (!dir.ok() || !dir->is_directory()) {
    if (dir.ok() || !absl::IsNotFound(dir.status())) {
      return InvalidRequestError(absl::StrCat(db.tmp_dir, " is not a plain directory"));
    }
    return RsyncPreconditionError(absl::StrCat("no rsynced file tmp/", tmp_name, " (no tmp directory)"));
  }
  const std::string upload = JoinPath(db.tmp_dir, tmp_name);
  absl::StatusOr<FileInfo> file = env->Lstat(upload);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) return RsyncPreconditionError(absl::StrCat("no rsynced file tmp/", tmp_name));
    return file.status();
  }
  if (!file->is_regular()) {
    return InvalidRequestError(absl::StrCat("tmp/", tmp_name, " is not a regular file"));
  }
  std::string private_path = JoinPath(db.tmp_dir, absl::StrCat(".", tmp_name, ".", RandomHex(), kInstallingSuffix));
  {
    absl::MutexLock lock(&in_use_mu);
    InUse().insert(private_path);
  }
  absl::Status moved = env->RenameFile(upload, private_path);
  if (!moved.ok()) {
    Release(private_path);
    if (absl::IsNotFound(moved)) {
      return RsyncPreconditionError(absl::StrCat("tmp/", tmp_name, " vanished (another install took it)"));
    }
    return moved;
  }
  return Upload(env, db, tmp_name, std::move(private_path));
}

Upload::Upload(Upload&& other) noexcept
    : env_(other.env_), db_(std::move(other.db_)), tmp_name_(std::move(other.tmp_name_)), path_(std::move(other.path_)) {
  other.path_.clear();
}

Upload::~Upload() {
  if (path_.empty()) return;
  if (absl::Status s = env_->RemoveFile(path_); !s.ok() && !absl::IsNotFound(s)) {
    LOG(WARNING) << db_.LogName() << ": could not remove abandoned upload " << path_ << ": " << s;
  }
  Release(path_);
}

bool UploadInUse(const std::string& private_path) {
  absl::MutexLock lock(&in_use_mu);
  return InUse().count(private_path) > 0;
}

absl::Status Upload::Quarantine(const absl::Status& why) {
  const std::string dir = JoinPath(db_.device_path, "quarantined/uploads");
  const std::string target = JoinPath(dir, tmp_name_);
  absl::Status s = RenameDurably(env_, path_, target);
  if (s.ok()) {
    Release(path_);
    path_.clear();
    LOG(ERROR) << db_.LogName() << ": rsynced file tmp/" << tmp_name_ << " is not a usable " << ServerType(db_.type)
               << " database; quarantined to " << target << ": " << why.message();
  } else {
    LOG(ERROR) << db_.LogName() << ": rsynced file tmp/" << tmp_name_ << " is bad (" << why.message()
               << ") and could not be quarantined: " << s;
  }
  return UploadCorruptError(absl::StrCat("rsynced file tmp/", tmp_name_, " is not a usable ", ServerType(db_.type),
                                         " database (", why.message(), ")", s.ok() ? "; quarantined" : ""));
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> Upload::OpenVerified(absl::Duration busy_timeout) {
  // The schema and a quick_check first, on the broker's connection before
  // it reads anything: nothing of the upload (a trigger, a view) runs before
  // it is known to be Swift's.
  BrokerOptions options;
  options.verify_swift_database = true;
  // Read once, front to back (installed, or folded into the database): a
  // small page cache keeps concurrent merges' memory down.
  options.cache_kib = 256;
  options.busy_timeout = busy_timeout;
  options.exclusive_file = true;
  options.quarantine_on_corruption = false;  // Never the directory around it.
  options.flush_pending = false;             // An upload has no .pending of its own.
  options.device_name = db_.device;
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(db_.type, path_, options);
  if (!broker.ok()) {
    if (absl::IsDataLoss(broker.status()) || absl::IsInvalidArgument(broker.status())) {
      return Quarantine(broker.status());
    }
    return broker.status();
  }
  return broker;
}

absl::Status Upload::Install(const std::string& target, DeferredDirSyncs* deferred) {
  RETURN_IF_ERROR(env_->SyncFile(path_));
  RETURN_IF_ERROR(env_->RenameFile(path_, target));
  if (deferred != nullptr) {
    deferred->Add(Dirname(target));
  } else {
    RETURN_IF_ERROR(env_->SyncDir(Dirname(target)));
  }
  Release(path_);
  path_.clear();
  return absl::OkStatus();
}

absl::Status Upload::Remove() {
  absl::Status s = env_->RemoveFile(path_);
  if (s.ok() || absl::IsNotFound(s)) {
    Release(path_);
    path_.clear();
    return absl::OkStatus();
  }
  return s;
}

int RemoveAbandonedUploads(Env* env, const std::string& devices) {
  int removed = 0;
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(devices);
  if (!names.ok()) return 0;
  for (const std::string& device : *names) {
    const std::string tmp = JoinPath(JoinPath(devices, device), "tmp");
    absl::StatusOr<std::vector<std::string>> files = env->ListDir(tmp);
    if (!files.ok()) continue;
    for (const std::string& f : *files) {
      // The private file and any SQLite journal left beside it.
      if (!absl::StartsWith(f, ".") || !absl::StrContains(f, kInstallingSuffix)) continue;
      if (env->RemoveFile(JoinPath(tmp, f)).ok()) {
        LOG(INFO) << "removed an upload abandoned by a crash: " << JoinPath(tmp, f);
        ++removed;
      }
    }
  }
  return removed;
}

}  // namespace dbrepl::peer
