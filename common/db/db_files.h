// Filesystem helpers for database files, with Python's path semantics where
// Swift relies on them: where a database's device is, its id, moving a hash
// directory to quarantine, removing it.
//
//   DevicePath("/srv/node/sdb1/containers/931/85f/<hash>/<hash>.db") == "/srv/node/sdb1"
//   NewDbId(db_file) == "6a7f...-sdb1"
//
// Thread-safe (the filesystem is the only shared state).
#ifndef DBREPL_COMMON_DB_DB_FILES_H_
#define DBREPL_COMMON_DB_DB_FILES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db_type.h"
#include "common/fs_util.h"  // MakeDirs, FsyncDir, ListDirectory

namespace dbrepl {

// os.path.dirname / os.path.basename.
std::string PythonDirname(absl::string_view path);
std::string PythonBasename(absl::string_view path);

// Swift's get_device_path(): the hash directory of `db_file` with four
// components stripped, i.e. "<devices>/<device>" for a file in its standard
// place. For a file in "<devices>/<device>/tmp/" this is 4 levels above tmp:
// Swift's quirk, kept because complete_rsync gives the file its new id while
// it is still in tmp, so Swift's ids end in that directory's name (often just
// "-"), and ours must match.
std::string DevicePath(absl::string_view db_file);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewUuid4();
// The same without dashes (uuid4().hex).
std::string NewUuid4Hex();

// Swift's _new_db_id(): "<uuid4>-<basename(DevicePath(db_file))>".
std::string NewDbId(absl::string_view db_file);

// Swift's renamer(): creates the parent of `to` if needed and renames; with
// `fsync`, fsyncs the parent directory afterwards.
absl::Status Renamer(const std::string& from, const std::string& to, bool fsync);

// Removes `path` and everything under it; errors are ignored, as
// shutil.rmtree(ignore_errors=True).
void RemoveTree(const std::string& path);

// Moves `hash_dir` to <device>/quarantined/<type>s/<basename>, or to
// "...-<uuid4 hex>" if that exists. Returns the new path. NOT_FOUND if
// `hash_dir` does not exist.
absl::StatusOr<std::string> QuarantineHashDir(const std::string& hash_dir, DbType type);

// What one listing of a hash dir says: Swift's get_db_files() (below) and
// the mtime of the oldest "*.tmp" file (nullopt if none). NOT_FOUND if the
// directory is missing.
struct HashDirFiles {
  std::vector<std::string> db_files;
  absl::optional<absl::Time> oldest_tmp;
};
absl::StatusOr<HashDirFiles> ListHashDir(const std::string& hash_dir, const std::string& hash);

// Swift's get_db_files() on a hash dir: the sorted full paths of the files
// "<hash>[_<epoch>].db" in `hash_dir` (Swift's parse_db_filename rules: the
// part before the extension, up to the first '_', must equal `hash`, and the
// extension must be ".db"). Empty if the directory is missing or unreadable.
std::vector<std::string> GetDbFiles(const std::string& hash_dir, const std::string& hash);

// Swift's get_db_state() for the container file `db_file` (see
// ReplicationInfo::db_state), given its hash dir's database files
// (ListHashDir's db_files) and its shard_range max ROWID.
std::string DbStateOf(const std::string& db_file, const std::vector<std::string>& db_files, int64_t shard_max_row);

// True if `hash_dir` holds a sharding epoch file "<hash>_<epoch>.db" (any
// GetDbFiles entry but "<hash>.db"): the container is sharding (both files)
// or sharded/collapsed (the epoch file alone). dbrepl replicates neither.
bool HasEpochDbFile(const std::string& hash_dir, const std::string& hash);

// The mtime of the oldest "*.tmp" file in `dir`, or nullopt if there is none.
absl::StatusOr<absl::optional<absl::Time>> OldestTmpFile(const std::string& dir);

// Removes the files in `dir` whose names end in ".tmp" and whose mtime is
// before `cutoff`. Returns how many were removed. NOT_FOUND if `dir` is
// missing.
absl::StatusOr<int> RemoveTmpFilesOlderThan(const std::string& dir, absl::Time cutoff);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_DB_FILES_H_
