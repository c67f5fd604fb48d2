#include "common/env/testing/fault_injection_env.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace dbrepl::testing {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* base, std::string backup_dir)
    : base_(base), backup_dir_(std::move(backup_dir)) {}

void FaultInjectionEnv::CrashAfter(int n) {
  absl::MutexLock lock(&mu_);
  crash_after_ = n;
}

bool FaultInjectionEnv::crashed() const {
  absl::MutexLock lock(&mu_);
  return crashed_;
}

int FaultInjectionEnv::mutations() const {
  absl::MutexLock lock(&mu_);
  return mutations_;
}

void FaultInjectionEnv::SetFaultHook(std::function<absl::Status(const Call&)> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

absl::Status FaultInjectionEnv::Before(const Call& call, bool mutating) {
  if (crashed_ || (mutating && crash_after_ == 0)) {
    crashed_ = true;
    return absl::UnavailableError(absl::StrCat("simulated crash (", call.op, " ", call.path, ")"));
  }
  if (hook_) return hook_(call);
  return absl::OkStatus();
}

void FaultInjectionEnv::Succeeded(bool mutating) {
  if (!mutating) return;
  ++mutations_;
  if (crash_after_ > 0) --crash_after_;
}

absl::StatusOr<std::string> FaultInjectionEnv::Backup(const std::string& path) {
  std::string backup = absl::StrCat(backup_dir_, "/backup-", backups_++);
  if (link(path.c_str(), backup.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("backup link of ", path, ": ", std::strerror(errno)));
  }
  return backup;
}

absl::StatusOr<FileInfo> FaultInjectionEnv::Stat(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"Stat", path, ""}, false); !s.ok()) return s;
  return base_->Stat(path);
}

absl::StatusOr<FileInfo> FaultInjectionEnv::Lstat(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"Lstat", path, ""}, false); !s.ok()) return s;
  return base_->Lstat(path);
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"CreateDir", path, ""}, true); !s.ok()) return s;
  if (absl::Status s = base_->CreateDir(path); !s.ok()) return s;
  changes_.push_back({Change::kCreatedDir, path, "", ""});
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveDir(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"RemoveDir", path, ""}, true); !s.ok()) return s;
  if (absl::Status s = base_->RemoveDir(path); !s.ok()) return s;
  changes_.push_back({Change::kRemovedDir, path, "", ""});
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"RemoveFile", path, ""}, true); !s.ok()) return s;
  absl::StatusOr<std::string> backup = Backup(path);
  if (!backup.ok()) return base_->RemoveFile(path);  // Nothing to back up: let the base say why.
  if (absl::Status s = base_->RemoveFile(path); !s.ok()) return s;
  changes_.push_back({Change::kRemovedFile, path, "", *backup});
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"RenameFile", from, to}, true); !s.ok()) return s;
  std::string replaced;
  if (base_->Lstat(to).ok()) {
    absl::StatusOr<std::string> backup = Backup(to);
    if (backup.ok()) replaced = *backup;
  }
  if (absl::Status s = base_->RenameFile(from, to); !s.ok()) return s;
  changes_.push_back({Change::kRenamed, to, from, replaced});
  // Unsynced data follows the file to its new name.
  if (unsynced_data_.erase(from) > 0) unsynced_data_.insert(to);
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"SyncFile", path, ""}, true); !s.ok()) return s;
  if (absl::Status s = base_->SyncFile(path); !s.ok()) return s;
  unsynced_data_.erase(path);
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"SyncDir", path, ""}, true); !s.ok()) return s;
  if (absl::Status s = base_->SyncDir(path); !s.ok()) return s;
  // Entries of this directory are now durable (a rename: its target's).
  std::vector<Change> kept;
  for (Change& c : changes_) {
    if (DirOf(c.path) != path) kept.push_back(std::move(c));
  }
  changes_ = std::move(kept);
  Succeeded(true);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::WriteNewFile(const std::string& path, absl::string_view data, uint32_t mode) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"WriteNewFile", path, ""}, true); !s.ok()) return s;
  if (absl::Status s = base_->WriteNewFile(path, data, mode); !s.ok()) return s;
  changes_.push_back({Change::kCreatedFile, path, "", ""});
  unsynced_data_.insert(path);
  Succeeded(true);
  return absl::OkStatus();
}

absl::StatusOr<std::string> FaultInjectionEnv::ReadFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"ReadFile", path, ""}, false); !s.ok()) return s;
  return base_->ReadFile(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Before({"ListDir", path, ""}, false); !s.ok()) return s;
  return base_->ListDir(path);
}

absl::Time FaultInjectionEnv::Now() {
  absl::MutexLock lock(&mu_);
  return base_->Now() + clock_offset_;
}

void FaultInjectionEnv::AdvanceClock(absl::Duration by) {
  absl::MutexLock lock(&mu_);
  clock_offset_ += by;
}

absl::Status FaultInjectionEnv::DropUnsyncedChanges() {
  absl::MutexLock lock(&mu_);
  namespace fs = std::filesystem;
  std::error_code ec;
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    const Change& c = *it;
    switch (c.kind) {
      case Change::kCreatedFile:
        fs::remove(c.path, ec);
        break;
      case Change::kCreatedDir:
        fs::remove_all(c.path, ec);
        break;
      case Change::kRemovedFile:
        fs::rename(c.backup, c.path, ec);
        break;
      case Change::kRemovedDir:
        fs::create_directory(c.path, ec);
        break;
      case Change::kRenamed:
        // A file that has since moved on (durably) is where that left it.
        if (!fs::exists(fs::symlink_status(c.path, ec))) {
          ec.clear();
          break;
        }
        fs::rename(c.path, c.from, ec);
        if (ec) break;
        if (!c.backup.empty()) fs::rename(c.backup, c.path, ec);
        break;
    }
    if (ec) {
      return absl::InternalError(absl::StrCat("undoing a change to ", c.path, ": ", ec.message()));
    }
  }
  changes_.clear();
  for (const std::string& path : unsynced_data_) {
    if (fs::exists(path, ec)) fs::resize_file(path, 0, ec);
  }
  unsynced_data_.clear();
  crashed_ = false;
  crash_after_ = -1;
  return absl::OkStatus();
}

}  // namespace dbrepl::testing
