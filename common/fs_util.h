// Filesystem helpers with the durability rules dbrepl relies on: the one
// directory lister, the one whole-file reader, the one atomic file writer, and
// Swift's renamer().
//
//   ASSIGN_OR_RETURN(std::vector<std::string> parts, ListDirectory(datadir));
//   RETURN_IF_ERROR(WriteFileAtomically(ring_path, bytes));  // mode 0644, fsynced
//   ASSIGN_OR_RETURN(std::string conf, ReadFile("/etc/swift/swift.conf"));
//
// Lifecycle: none; every function is one self-contained operation on paths.
// Nothing is cached and no descriptor outlives a call, so a failed call
// leaves no state behind in the process.
//
// Success and failure: functions returning a status say exactly what OK
// means below. Failures are statuses, never exceptions or crashes; the
// message names the operation and the path ("rename to <to> from <from>: No
// such file or directory"). The code comes from errno (absl::ErrnoToStatus):
// NOT_FOUND for ENOENT, PERMISSION_DENIED for EACCES, and so on, with
// FAILED_PRECONDITION where a path exists but is of the wrong kind. On failure
// the target of a write or rename is unchanged (see each function for the
// crash guarantees).
//
// Thread-safety: all functions are thread-safe (they only make system calls);
// concurrent writers of one path each replace it whole, the last rename wins.
#ifndef DBREPL_COMMON_FS_UTIL_H_
#define DBREPL_COMMON_FS_UTIL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/file_ops.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

// True if something (anything, even a dangling symlink) is at `path`.
bool PathExists(const std::string& path);
// True if `path` is a directory or a symlink to one.
bool IsDirectory(const std::string& path);

// mkdir -p, mode 0755. OK if it already exists as a directory;
// FAILED_PRECONDITION if it (or a parent) exists and is not one.
absl::Status MakeDirs(const std::string& path);

// Python's os.listdir(): the names in `dir` except "." and "..", in the
// order the filesystem returns them (callers sort or shuffle as Swift does).
// NOT_FOUND if `dir` does not exist, FAILED_PRECONDITION (ENOTDIR) if it is
// not a directory.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir);

// The whole contents of `path`. NOT_FOUND if it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// WriteFileAtomically(Env::Default(), ...) (common/env/file_ops.h, which
// says what it guarantees).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 const AtomicWriteOptions& options = {});

// fsync of a directory, so that a rename or unlink inside it is durable.
absl::Status FsyncDir(const std::string& dir);
// fsync of a file's data and metadata.
absl::Status FsyncFile(const std::string& path);

// RenameDurably(Env::Default(), from, to) (common/env/file_ops.h): Swift's
// renamer() with every new directory, the file and both directories fsynced.
absl::Status RenameDurably(const std::string& from, const std::string& to);

// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/" (dirname(1), not Python's).
std::string Dirname(absl::string_view path);
// "a/b/c" -> "c".
std::string Basename(absl::string_view path);

// File modification time in Unix seconds, with sub-second precision.
// NOT_FOUND if the file does not exist.
absl::StatusOr<double> MtimeSeconds(const std::string& path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_FS_UTIL_H_
