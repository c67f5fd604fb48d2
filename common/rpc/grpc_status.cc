#include "common/rpc/grpc_status.h"

#include <string>

#include "dbrepl/v1/db.pb.h"

namespace dbrepl {

// common/errors.h mirrors the proto enum without depending on it; these keep
// the numbers in step (grpc_status_test checks the names).
static_assert(static_cast<int>(ErrorReason::kUnspecified) == v1::ERROR_REASON_UNSPECIFIED);
static_assert(static_cast<int>(ErrorReason::kDbNotFound) == v1::DB_NOT_FOUND);
static_assert(static_cast<int>(ErrorReason::kDbQuarantined) == v1::DB_QUARANTINED);
static_assert(static_cast<int>(ErrorReason::kDeviceUnavailable) == v1::DEVICE_UNAVAILABLE);
static_assert(static_cast<int>(ErrorReason::kInvalidDbRef) == v1::INVALID_DB_REF);
static_assert(static_cast<int>(ErrorReason::kInvalidRequest) == v1::INVALID_REQUEST);
static_assert(static_cast<int>(ErrorReason::kBatchTooLarge) == v1::BATCH_TOO_LARGE);
static_assert(static_cast<int>(ErrorReason::kPeerAtCapacity) == v1::PEER_AT_CAPACITY);
static_assert(static_cast<int>(ErrorReason::kDbCorrupt) == v1::DB_CORRUPT);
static_assert(static_cast<int>(ErrorReason::kRsyncPrecondition) == v1::RSYNC_PRECONDITION);
static_assert(static_cast<int>(ErrorReason::kDbReplaced) == v1::DB_REPLACED);
static_assert(static_cast<int>(ErrorReason::kUploadCorrupt) == v1::UPLOAD_CORRUPT);
static_assert(sizeof(kAllErrorReasons) / sizeof(kAllErrorReasons[0]) == v1::ErrorReason_ARRAYSIZE);

// absl and gRPC number the canonical codes alike, so a cast converts.
static_assert(static_cast<int>(absl::StatusCode::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(absl::StatusCode::kFailedPrecondition) == grpc::StatusCode::FAILED_PRECONDITION);
static_assert(static_cast<int>(absl::StatusCode::kResourceExhausted) == grpc::StatusCode::RESOURCE_EXHAUSTED);
static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) == grpc::StatusCode::UNAUTHENTICATED);

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContext* context) {
  if (status.ok()) return grpc::Status::OK;
  const ErrorReason reason = GetReason(status);
  if (context != nullptr && reason != ErrorReason::kUnspecified) {
    context->AddTrailingMetadata(kErrorReasonKey, std::string(ErrorReasonName(reason)));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kErrorReasonKey);
  if (it != trailers.end()) {
    absl::optional<ErrorReason> reason = ParseErrorReason(absl::string_view(it->second.data(), it->second.size()));
    if (reason.has_value()) out = WithReason(std::move(out), *reason);
  }
  return out;
}

StatusFields ToStatusFields(const absl::Status& status) {
  StatusFields f;
  f.code = static_cast<int32_t>(status.code());
  if (status.ok()) return f;
  f.reason = std::string(ErrorReasonName(GetReason(status)));
  f.message = std::string(status.message());
  return f;
}

absl::Status FromStatusFields(int32_t code, absl::string_view reason, absl::string_view message) {
  absl::Status status(static_cast<absl::StatusCode>(code), message);
  if (status.ok()) return status;
  absl::optional<ErrorReason> parsed = ParseErrorReason(reason);
  return parsed.has_value() ? WithReason(status, *parsed) : status;
}

}  // namespace dbrepl
