// dbrepl's error model: how a failure is classified, with nothing but Abseil.
//
// Inside dbrepl every function returns absl::Status. A status may carry an
// ErrorReason as a payload, so that callers branch on a stable token rather
// than on message text:
//
//   absl::StatusOr<SyncResponse> sync = peers->Sync(node, ref, info);
//   if (IsDeviceUnavailable(sync.status())) { /* Swift's 507: next handoff */ }
//   if (IsDbMissing(sync.status())) { /* Swift's 404: rsync the whole file */ }
//
// ErrorReason mirrors dbrepl.v1.ErrorReason (proto/dbrepl/v1/db.proto) value
// for value and token for token: ErrorReasonName(ErrorReason::kDbNotFound) is
// "DB_NOT_FOUND", the proto enum's value name, which is what travels on the
// wire. grpc_status_test checks that the two enums stay the same. Only the
// service edge converts to gRPC (common/rpc/grpc_status.h); the storage layer
// (common/db) and everything else below the edge see this header alone.
//
// Choosing a code (Swift's HTTP status -> gRPC):
//   DbNotFoundError        404 on sync: ship the whole file        NOT_FOUND
//   DbQuarantinedError     404 after quarantining a corrupt db     NOT_FOUND
//   RsyncPreconditionError 404 from complete_rsync/rsync_then_merge NOT_FOUND
//   DeviceUnavailableError 507: move on to a handoff node          FAILED_PRECONDITION
//   InvalidDbRefError      bad device/partition/hash/type          INVALID_ARGUMENT
//   InvalidRequestError    any other malformed field               INVALID_ARGUMENT
//   BatchTooLargeError     batch over the row/byte limit           RESOURCE_EXHAUSTED
//   PeerAtCapacityError    every worker busy: back off             RESOURCE_EXHAUSTED
//   DbCorruptError         corrupt database (quarantined)          DATA_LOSS
//   DbReplacedError        the file was replaced under the call     UNAVAILABLE
//   UploadCorruptError     an rsynced file is not a Swift database  DATA_LOSS
//   DbShardedError         sharding in play (not replicated)       FAILED_PRECONDITION
// FAILED_PRECONDITION rather than UNAVAILABLE for an unmounted device: the
// device stays unusable until an operator acts, so retrying it is pointless
// (gRPC's guidance for the two codes). Transient trouble (a database locked
// past its deadline, a server shutting down) is UNAVAILABLE without a reason:
// retry later.
//
// Thread-safe: all functions are pure.
#ifndef DBREPL_COMMON_ERRORS_H_
#define DBREPL_COMMON_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace dbrepl {

// Why a call failed, beyond its code. The numbers are dbrepl.v1.ErrorReason's.
enum class ErrorReason {
  kUnspecified = 0,        // ERROR_REASON_UNSPECIFIED: no reason attached
  kDbNotFound = 1,         // DB_NOT_FOUND
  kDbQuarantined = 2,      // DB_QUARANTINED
  kDeviceUnavailable = 3,  // DEVICE_UNAVAILABLE
  kInvalidDbRef = 4,       // INVALID_DB_REF
  kInvalidRequest = 5,     // INVALID_REQUEST
  kBatchTooLarge = 6,      // BATCH_TOO_LARGE
  kPeerAtCapacity = 7,     // PEER_AT_CAPACITY
  kDbCorrupt = 8,          // DB_CORRUPT
  kRsyncPrecondition = 9,  // RSYNC_PRECONDITION
  kDbReplaced = 10,        // DB_REPLACED
  kUploadCorrupt = 11,     // UPLOAD_CORRUPT
  kDbSharded = 12,         // DB_SHARDED
};

// Every reason, kUnspecified first, in numeric order.
inline constexpr ErrorReason kAllErrorReasons[] = {
    ErrorReason::kUnspecified,    ErrorReason::kDbNotFound,        ErrorReason::kDbQuarantined,
    ErrorReason::kDeviceUnavailable, ErrorReason::kInvalidDbRef,   ErrorReason::kInvalidRequest,
    ErrorReason::kBatchTooLarge,  ErrorReason::kPeerAtCapacity,    ErrorReason::kDbCorrupt,
    ErrorReason::kRsyncPrecondition, ErrorReason::kDbReplaced,      ErrorReason::kUploadCorrupt,
    ErrorReason::kDbSharded,
};

// The wire token of `reason`: the proto enum's value name ("DB_NOT_FOUND").
absl::string_view ErrorReasonName(ErrorReason reason);

// The reason whose token is `name`; nullopt for an unknown token (a newer
// peer's reason, say), which callers treat as no reason.
absl::optional<ErrorReason> ParseErrorReason(absl::string_view name);

// Constructors: the code of the table above, with the reason attached.
absl::Status DbNotFoundError(absl::string_view message);
absl::Status DbQuarantinedError(absl::string_view message);
absl::Status RsyncPreconditionError(absl::string_view message);
absl::Status DeviceUnavailableError(absl::string_view message);
absl::Status InvalidDbRefError(absl::string_view message);
absl::Status InvalidRequestError(absl::string_view message);
absl::Status BatchTooLargeError(absl::string_view message);
absl::Status PeerAtCapacityError(absl::string_view message);
absl::Status DbCorruptError(absl::string_view message);
absl::Status DbReplacedError(absl::string_view message);
absl::Status UploadCorruptError(absl::string_view message);
absl::Status DbShardedError(absl::string_view message);

// Returns `status` with `reason` attached (replacing any earlier reason). An
// OK status stays OK and carries nothing; kUnspecified removes the reason.
absl::Status WithReason(absl::Status status, ErrorReason reason);

// The reason attached to `status`, or kUnspecified.
ErrorReason GetReason(const absl::Status& status);

// True for the NOT_FOUND statuses that mean "the peer has no usable copy":
// DB_NOT_FOUND, DB_QUARANTINED, or no reason at all (a peer that predates
// reasons). The sender ships the whole file. RSYNC_PRECONDITION is not one.
bool IsDbMissing(const absl::Status& status);

// True for DEVICE_UNAVAILABLE: try the next handoff node.
bool IsDeviceUnavailable(const absl::Status& status);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_ERRORS_H_
