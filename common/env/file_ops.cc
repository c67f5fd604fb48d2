#include "common/env/file_ops.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dbrepl {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

}  // namespace

absl::Status MakeDirsDurably(Env* env, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<FileInfo> info = env->Stat(path);
  if (info.ok()) {
    if (info->is_directory()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  if (!absl::IsNotFound(info.status())) return info.status();
  std::string parent = DirOf(path);
  if (parent != path) {
    if (absl::Status s = MakeDirsDurably(env, parent); !s.ok()) return s;
  }
  absl::Status made = env->CreateDir(path);
  if (absl::IsAlreadyExists(made)) {
    // Someone else made it meanwhile; it must be a directory.
    absl::StatusOr<FileInfo> now = env->Stat(path);
    if (now.ok() && now->is_directory()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  if (!made.ok()) return made;
  return env->SyncDir(parent);
}

absl::Status MakeDirsDurablyBelow(Env* env, const std::string& root, const std::string& path) {
  return MakeDirsBelow(env, root, path, nullptr);
}

absl::Status DeferredDirSyncs::Flush(Env* env) {
  std::vector<std::string> dirs = std::move(dirs_);
  dirs_.clear();
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const std::string& d : dirs) {
    if (absl::Status s = env->SyncDir(d); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MakeDirsBelow(Env* env, const std::string& root, const std::string& path, DeferredDirSyncs* deferred) {
  absl::StatusOr<FileInfo> top = env->Stat(root);
  if (!top.ok()) return top.status();
  if (!top->is_directory()) return absl::FailedPreconditionError(absl::StrCat(root, " is not a directory"));
  if (path.size() <= root.size() || path.compare(0, root.size(), root) != 0) return absl::OkStatus();
  std::string current = root;
  size_t pos = root.size();
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    if (next == std::string::npos) next = path.size();
    current = path.substr(0, next);
    pos = next;
    absl::StatusOr<FileInfo> info = env->Lstat(current);
    if (info.ok()) {
      if (!info->is_directory()) return absl::FailedPreconditionError(absl::StrCat(current, " is not a directory"));
      continue;
    }
    if (!absl::IsNotFound(info.status())) return info.status();
    absl::Status made = env->CreateDir(current);
    if (absl::IsAlreadyExists(made)) continue;
    if (!made.ok()) return made;  // NOT_FOUND if a parent vanished meanwhile.
    if (deferred != nullptr) {
      deferred->Add(DirOf(current));
      continue;
    }
    if (absl::Status s = env->SyncDir(DirOf(current)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RenameDurably(Env* env, const std::string& from, const std::string& to) {
  const std::string to_dir = DirOf(to);
  const std::string from_dir = DirOf(from);
  if (absl::Status s = MakeDirsDurably(env, to_dir); !s.ok()) return s;
  absl::StatusOr<FileInfo> source = env->Lstat(from);
  if (!source.ok()) return source.status();
  if (absl::Status s = source->is_directory() ? env->SyncDir(from) : env->SyncFile(from); !s.ok()) return s;
  if (absl::Status s = env->RenameFile(from, to); !s.ok()) return s;
  if (absl::Status s = env->SyncDir(to_dir); !s.ok()) return s;
  if (from_dir != to_dir) return env->SyncDir(from_dir);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(Env* env, const std::string& path, absl::string_view data,
                                 const AtomicWriteOptions& options) {
  const std::string dir = DirOf(path);
  const std::string tmp = absl::StrCat(dir, "/.", BaseOf(path), ".", RandomSuffix(), ".tmp");
  absl::Status s = env->WriteNewFile(tmp, data, options.mode);
  if (s.ok() && options.durable) s = env->SyncFile(tmp);
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    env->RemoveFile(tmp).IgnoreError();
    return s;
  }
  return options.durable ? env->SyncDir(dir) : absl::OkStatus();
}

absl::Status RemoveFileDurably(Env* env, const std::string& path) {
  if (absl::Status s = env->RemoveFile(path); !s.ok()) return s;
  return env->SyncDir(DirOf(path));
}

}  // namespace dbrepl
