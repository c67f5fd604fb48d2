#include "common/errors.h"

#include <string>

#include "absl/strings/cord.h"

namespace dbrepl {
namespace {

// The payload type URL under which a status carries its reason token.
constexpr char kReasonPayloadUrl[] = "type.dbrepl.v1/dbrepl.v1.ErrorReason";

absl::Status Make(absl::StatusCode code, absl::string_view message, ErrorReason reason) {
  return WithReason(absl::Status(code, message), reason);
}

}  // namespace

absl::string_view ErrorReasonName(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::kUnspecified: return "ERROR_REASON_UNSPECIFIED";
    case ErrorReason::kDbNotFound: return "DB_NOT_FOUND";
    case ErrorReason::kDbQuarantined: return "DB_QUARANTINED";
    case ErrorReason::kDeviceUnavailable: return "DEVICE_UNAVAILABLE";
    case ErrorReason::kInvalidDbRef: return "INVALID_DB_REF";
    case ErrorReason::kInvalidRequest: return "INVALID_REQUEST";
    case ErrorReason::kBatchTooLarge: return "BATCH_TOO_LARGE";
    case ErrorReason::kPeerAtCapacity: return "PEER_AT_CAPACITY";
    case ErrorReason::kDbCorrupt: return "DB_CORRUPT";
    case ErrorReason::kRsyncPrecondition: return "RSYNC_PRECONDITION";
    case ErrorReason::kDbReplaced: return "DB_REPLACED";
    case ErrorReason::kUploadCorrupt: return "UPLOAD_CORRUPT";
    case ErrorReason::kDbSharded: return "DB_SHARDED";
  }
  return "ERROR_REASON_UNSPECIFIED";
}

absl::optional<ErrorReason> ParseErrorReason(absl::string_view name) {
  for (ErrorReason reason : kAllErrorReasons) {
    if (ErrorReasonName(reason) == name) return reason;
  }
  return absl::nullopt;
}

absl::Status DbNotFoundError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, ErrorReason::kDbNotFound);
}
absl::Status DbQuarantinedError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, ErrorReason::kDbQuarantined);
}
absl::Status RsyncPreconditionError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, ErrorReason::kRsyncPrecondition);
}
absl::Status DeviceUnavailableError(absl::string_view m) {
  return Make(absl::StatusCode::kFailedPrecondition, m, ErrorReason::kDeviceUnavailable);
}
absl::Status InvalidDbRefError(absl::string_view m) {
  return Make(absl::StatusCode::kInvalidArgument, m, ErrorReason::kInvalidDbRef);
}
absl::Status InvalidRequestError(absl::string_view m) {
  return Make(absl::StatusCode::kInvalidArgument, m, ErrorReason::kInvalidRequest);
}
absl::Status BatchTooLargeError(absl::string_view m) {
  return Make(absl::StatusCode::kResourceExhausted, m, ErrorReason::kBatchTooLarge);
}
absl::Status PeerAtCapacityError(absl::string_view m) {
  return Make(absl::StatusCode::kResourceExhausted, m, ErrorReason::kPeerAtCapacity);
}
absl::Status DbCorruptError(absl::string_view m) {
  return Make(absl::StatusCode::kDataLoss, m, ErrorReason::kDbCorrupt);
}
absl::Status DbReplacedError(absl::string_view m) {
  return Make(absl::StatusCode::kUnavailable, m, ErrorReason::kDbReplaced);
}
absl::Status UploadCorruptError(absl::string_view m) {
  return Make(absl::StatusCode::kDataLoss, m, ErrorReason::kUploadCorrupt);
}

absl::Status DbShardedError(absl::string_view m) {
  return Make(absl::StatusCode::kFailedPrecondition, m, ErrorReason::kDbSharded);
}

absl::Status WithReason(absl::Status status, ErrorReason reason) {
  if (status.ok()) return status;
  if (reason == ErrorReason::kUnspecified) {
    status.ErasePayload(kReasonPayloadUrl);
  } else {
    status.SetPayload(kReasonPayloadUrl, absl::Cord(ErrorReasonName(reason)));
  }
  return status;
}

ErrorReason GetReason(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kReasonPayloadUrl);
  if (!payload.has_value()) return ErrorReason::kUnspecified;
  return ParseErrorReason(std::string(*payload)).value_or(ErrorReason::kUnspecified);
}

bool IsDbMissing(const absl::Status& status) {
  const ErrorReason r = GetReason(status);
  return status.code() == absl::StatusCode::kNotFound &&
         (r == ErrorReason::kDbNotFound || r == ErrorReason::kDbQuarantined || r == ErrorReason::kUnspecified);
}

bool IsDeviceUnavailable(const absl::Status& status) {
  return GetReason(status) == ErrorReason::kDeviceUnavailable;
}

}  // namespace dbrepl
