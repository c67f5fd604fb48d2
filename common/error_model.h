// dbrepl's error model: how a failure is classified, and the one place where
// absl::Status becomes grpc::Status (and back).
//
// Inside dbrepl every function returns absl::Status. A status may carry an
// ErrorReason (dbrepl.v1.ErrorReason, proto/dbrepl/v1/db.proto) as a payload;
// at the service edge ToGrpcStatus() turns the code into the gRPC code and
// the reason into the trailing metadata key "dbrepl-error-reason", and on the
// client FromGrpcStatus() restores both. Clients branch on the reason, never
// on message text.
//
// Choosing a code (Swift's HTTP status -> gRPC, reference §1.5):
//   DbNotFoundError        404 on sync: ship the whole file       NOT_FOUND
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
// Transient trouble (database locked past its deadline, shutting down) is
// UNAVAILABLE without a reason: retry later.
//
// Thread-safe: all functions are pure.
#ifndef DBREPL_COMMON_ERROR_MODEL_H_
#define DBREPL_COMMON_ERROR_MODEL_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "dbrepl/v1/db.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace dbrepl {

using ErrorReason = ::dbrepl::v1::ErrorReason;

// The trailing-metadata key that carries the reason's enum name.
inline constexpr char kErrorReasonKey[] = "dbrepl-error-reason";

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

// Returns `status` with `reason` attached (replacing any earlier reason).
absl::Status WithReason(absl::Status status, ErrorReason reason);

// The reason attached to `status`, or ERROR_REASON_UNSPECIFIED.
ErrorReason GetReason(const absl::Status& status);

// True for the reasons that mean "the peer has no usable copy": ship one.
bool IsDbMissing(const absl::Status& status);
// True for DEVICE_UNAVAILABLE: try the next handoff node.
bool IsDeviceUnavailable(const absl::Status& status);

// Service edge: converts `status` to gRPC and, when it has a reason, adds the
// reason to `context`'s trailing metadata. `context` may be null.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContext* context);

// Client edge: the inverse; reads the reason from `context`'s trailing
// metadata (valid once the call has finished).
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_ERROR_MODEL_H_
