// The conflict rules of a container database's object rows (Swift's
// update_new_item_from_existing and ContainerBroker.merge_items in
// swift/container/backend.py), as pure functions so that every rule can be
// tested without a database.
//
// A row's created_at encodes three timestamps (data, content type, metadata;
// see EncodeTimestamps). Each component is compared separately and the
// existing row wins ties:
//   data newer   -> size, etag, deleted and the swift_bytes content-type
//                   parameter come from the item;
//   ctype newer  -> content_type (without swift_bytes) comes from the item;
//   meta newer   -> the meta timestamp comes from the item.
// When no component of the item is newer, it is dropped.
//
//   MergingObject item(incoming_row);
//   ASSIGN_OR_RETURN(bool newer, UpdateNewItemFromExisting(&item, &existing_row));
//   if (newer) { DELETE existing; INSERT item.record }
//
// Thread-safe; timestamps that do not parse are INVALID_ARGUMENT.
#ifndef DBREPL_COMMON_DB_OBJECT_MERGE_H_
#define DBREPL_COMMON_DB_OBJECT_MERGE_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/db/records.h"

namespace dbrepl {

// An item being merged: the row to insert, plus the item's original
// created_at (Swift's 'data_timestamp'), which a second merge against a
// duplicate of the same batch starts from again.
struct MergingObject {
  explicit MergingObject(ObjectRecord r) : record(std::move(r)) {}
  ObjectRecord record;
  absl::optional<std::string> data_timestamp;
};

// Swift's update_new_item_from_existing(new_item, existing): rewrites
// item->record (created_at always re-encoded; data/ctype fields taken from
// `existing` where it is at least as new). `existing` may be null (a new
// row). Returns true if any component of the item is strictly newer (always
// true without `existing`).
absl::StatusOr<bool> UpdateNewItemFromExisting(MergingObject* item, const ObjectRecord* existing);

// Swift's parse_content_type() + extract_swift_bytes(): the content type
// with every parameter but swift_bytes re-appended as ";key=value", and the
// last swift_bytes value if any. "text/plain; charset=utf-8;swift_bytes=5"
// -> {"text/plain;charset=utf-8", "5"}.
std::pair<std::string, absl::optional<std::string>> ExtractSwiftBytes(absl::string_view content_type);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_OBJECT_MERGE_H_
