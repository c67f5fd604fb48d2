// Small filesystem helpers with the durability rules dbrepl relies on.
// All functions are thread-safe (they only make system calls).
#ifndef DBREPL_COMMON_FS_UTIL_H_
#define DBREPL_COMMON_FS_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

// mkdir -p, mode 0755. OK if it already exists as a directory.
absl::Status MakeDirs(const std::string& path);

// fsync of a directory, so that a rename or unlink inside it is durable.
absl::Status FsyncDir(const std::string& dir);
absl::Status FsyncFile(const std::string& path);

// Swift's renamer(): creates the target's directory, fsyncs the source file,
// renames it over `to` (atomic: a reader sees the old or the new file, never
// a mix), then fsyncs both directories so the rename survives a crash.
absl::Status RenameDurably(const std::string& from, const std::string& to);

std::string Dirname(absl::string_view path);
std::string Basename(absl::string_view path);

// File modification time in seconds (with sub-second precision).
absl::StatusOr<double> MtimeSeconds(const std::string& path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_FS_UTIL_H_
