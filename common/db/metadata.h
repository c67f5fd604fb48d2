// Swift's database metadata (DatabaseBroker.metadata and update_metadata in
// swift/common/db.py): the stat row's `metadata` column holds the JSON text of
// {key: [value, timestamp], ...}, written as Python's json.dumps writes it
// (common/python_json.h: ", " and ": " separators, non-ASCII as \uXXXX, keys
// in insertion order). "" means {}. A key is deleted by setting
// its value to "" at a newer timestamp; such keys are reclaimed after the
// reclaim age.
//
//   ASSIGN_OR_RETURN(absl::optional<std::string> merged, MergeMetadata(stored, updates));
//   if (merged) { UPDATE <type>_stat SET metadata = *merged }
//
// All functions are pure and thread-safe. Malformed JSON (or entries that are
// not [value, "timestamp"] pairs, or strings that are not UTF-8; see
// common/python_json.h for why) is INVALID_ARGUMENT.
#ifndef DBREPL_COMMON_DB_METADATA_H_
#define DBREPL_COMMON_DB_METADATA_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/timestamp.h"

namespace dbrepl {

// update_metadata(): for each key of `updates_json`, takes the update if the
// key is absent or the update's timestamp is newer (a string comparison, as
// Swift). Returns the new JSON to store, or nullopt when Swift would not
// write (every key present and no update newer).
absl::StatusOr<absl::optional<std::string>> MergeMetadata(absl::string_view stored_json,
                                                          absl::string_view updates_json);

// _reclaim_metadata(): drops keys whose value is "" and whose timestamp is
// older than `age`. Returns the new JSON, or nullopt if nothing was dropped.
// Keys whose timestamp does not parse are kept.
absl::StatusOr<absl::optional<std::string>> ReclaimMetadata(absl::string_view stored_json, const Timestamp& age);

// The updates delete_db(timestamp) applies: every stored key set to
// ["", timestamp], except keys whose lower-case form is in `keep`.
absl::StatusOr<std::string> DeleteAllMetadataUpdates(absl::string_view stored_json, absl::string_view timestamp,
                                                     const std::vector<std::string>& keep);

// The value stored for `key` ("" when absent or not a string).
absl::StatusOr<std::string> GetMetadataValue(absl::string_view stored_json, absl::string_view key);

// Re-serialises `json` as Python's json.dumps(json.loads(json)) would
// (INVALID_ARGUMENT if it does not parse). "" stays "".
absl::StatusOr<std::string> NormalizeMetadataJson(absl::string_view json);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_METADATA_H_
