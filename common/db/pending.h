// Swift's <db>.pending file (put_record and _commit_puts in
// swift/common/db.py): the account and container servers append rows here,
// cheaply, under the hash directory's .lock, and the next reader merges them
// into the database.
//
// Format: entries ":" + base64(pickle.dumps(tuple, protocol=2)), back to back:
//   container: (name, created_at, size, content_type, etag, deleted,
//               storage_policy_index, ctype_timestamp, meta_timestamp)
//   account:   (name, put_timestamp, delete_timestamp, object_count,
//               bytes_used, deleted, storage_policy_index)
// Shorter legacy tuples are accepted (storage_policy_index 0, ctype/meta
// None). A malformed entry is logged ("Invalid pending entry <file>:
// <entry>") and skipped, never fatal.
//
//   std::string entry = EncodePendingObject(record);   // ":gAIoWAEAAABv..."
//   PendingRows rows = DecodePending(DbType::kContainer, contents, path);
//
// Locking and merging are the broker's job; these functions are pure (the
// file helpers only do what they say). Thread-safe.
#ifndef DBREPL_COMMON_DB_PENDING_H_
#define DBREPL_COMMON_DB_PENDING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/db/records.h"
#include "common/db_type.h"

namespace dbrepl {

// Swift's PENDING_CAP: past this size put_record merges instead of appending.
inline constexpr int64_t kPendingCap = 131072;

// One entry exactly as Swift's put_record() writes it (leading ':').
// ctype/meta timestamps that are empty are written as None; `deleted` as the
// int 0 or 1.
std::string EncodePendingObject(const ObjectRecord& object);
std::string EncodePendingContainer(const ContainerRecord& container);

struct PendingRows {
  std::vector<ObjectRecord> objects;        // Container databases.
  std::vector<ContainerRecord> containers;  // Account databases.
  int invalid_entries = 0;
};

// Decodes a whole pending file. `file_name` is for the log lines only.
PendingRows DecodePending(DbType type, absl::string_view contents, absl::string_view file_name);

// Size of the file, 0 if it does not exist.
absl::StatusOr<int64_t> PendingFileSize(const std::string& pending_file);
// The whole file; NOT_FOUND if missing.
absl::StatusOr<std::string> ReadPendingFile(const std::string& pending_file);
// Appends `entry` (O_APPEND, created if missing).
absl::Status AppendPendingFile(const std::string& pending_file, absl::string_view entry);
// Truncates to 0 bytes; OK if it does not exist.
absl::Status TruncatePendingFile(const std::string& pending_file);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_PENDING_H_
