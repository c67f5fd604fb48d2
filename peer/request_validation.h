// What the peer checks in a request beyond the DbRef (DbLocator), before
// anything is read or written: values that would otherwise be stored for
// good and compared as text by Swift's SQL (timestamps), unbounded sizes, and
// ids that become sync-table keys.
//
//   RETURN_IF_ERROR(ValidateSyncRequest(*request));
//
// Every failure is INVALID_ARGUMENT/INVALID_REQUEST naming the field, with
// the offending value shortened and escaped. Pure and thread-safe.
#ifndef DBREPL_PEER_REQUEST_VALIDATION_H_
#define DBREPL_PEER_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/db/records.h"
#include "dbrepl/v1/peer.pb.h"

namespace dbrepl::peer {

// Metadata larger than this is refused (Swift's own limits keep user
// metadata to a few KiB; system metadata adds a little).
inline constexpr int64_t kMaxMetadataBytes = 256 << 10;
// Most sync points one MergeSyncs may carry (a database has one per replica
// it has ever heard from).
inline constexpr int kMaxSyncPoints = 10000;
// Longest database id, sender id or tmp name accepted.
inline constexpr size_t kMaxIdBytes = 255;

// A database id as a sync-table key: 1..255 printable ASCII bytes.
absl::Status ValidateDbId(absl::string_view id, absl::string_view field);

// A Swift timestamp as stored in a stat table: its canonical text
// (Timestamp.internal, "%016.05f" with an optional "_%016x" offset) or "0"
// (never set). `allow_empty` for fields a sender may leave out.
absl::Status ValidateStoredTimestamp(absl::string_view ts, absl::string_view field, bool allow_empty = false);

// Sync: id, hash (32 hex digits), max_row >= -1, created_at (required),
// put/delete timestamps, metadata size.
absl::Status ValidateSyncRequest(const v1::SyncRequest& request);

// Most installs one CompleteRsyncBatch may carry.
inline constexpr int kMaxInstallBatch = 1000;

// Most databases one SyncPartition may name.
inline constexpr int kMaxPartitionDbs = 10000;

// Most partitions one SyncPartitions may carry (and, in all, at most
// kMaxPartitionDbs databases).
inline constexpr int kMaxHandshakePartitions = 1024;

// SyncPartition: at most kMaxPartitionDbs entries, each with a valid name
// hash, id, rows hash (32 hex digits), max_row >= -1 and a 16-byte state
// digest; no name twice.
absl::Status ValidateSyncPartitionRequest(const v1::SyncPartitionRequest& request);

// Longest row name accepted (Swift's object names are at most 1024 bytes by
// default; its limit is configurable, so this only bounds the absurd).
inline constexpr size_t kMaxNameBytes = 8192;

// Rows of a MergeItems batch: names 1..kMaxNameBytes bytes, an object's
// created_at decodes (Swift's encoded data+ctype+meta timestamps), a
// container row's put/delete timestamps are Swift's, counts not negative.
absl::Status ValidateRows(const ItemBatch& rows);

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_REQUEST_VALIDATION_H_
