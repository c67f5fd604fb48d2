#include "common/error_model.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace dbrepl {
namespace {

constexpr char kReasonPayloadUrl[] = "type.dbrepl.v1/dbrepl.v1.ErrorReason";

absl::Status Make(absl::StatusCode code, absl::string_view message, ErrorReason reason) {
  return WithReason(absl::Status(code, message), reason);
}

}  // namespace

absl::Status DbNotFoundError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, v1::DB_NOT_FOUND);
}
absl::Status DbQuarantinedError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, v1::DB_QUARANTINED);
}
absl::Status RsyncPreconditionError(absl::string_view m) {
  return Make(absl::StatusCode::kNotFound, m, v1::RSYNC_PRECONDITION);
}
absl::Status DeviceUnavailableError(absl::string_view m) {
  return Make(absl::StatusCode::kFailedPrecondition, m, v1::DEVICE_UNAVAILABLE);
}
absl::Status InvalidDbRefError(absl::string_view m) {
  return Make(absl::StatusCode::kInvalidArgument, m, v1::INVALID_DB_REF);
}
absl::Status InvalidRequestError(absl::string_view m) {
  return Make(absl::StatusCode::kInvalidArgument, m, v1::INVALID_REQUEST);
}
absl::Status BatchTooLargeError(absl::string_view m) {
  return Make(absl::StatusCode::kResourceExhausted, m, v1::BATCH_TOO_LARGE);
}
absl::Status PeerAtCapacityError(absl::string_view m) {
  return Make(absl::StatusCode::kResourceExhausted, m, v1::PEER_AT_CAPACITY);
}
absl::Status DbCorruptError(absl::string_view m) {
  return Make(absl::StatusCode::kDataLoss, m, v1::DB_CORRUPT);
}

absl::Status DbReplacedError(absl::string_view m) {
  return Make(absl::StatusCode::kUnavailable, m, v1::DB_REPLACED);
}

absl::Status UploadCorruptError(absl::string_view m) {
  return Make(absl::StatusCode::kDataLoss, m, v1::UPLOAD_CORRUPT);
}

absl::Status WithReason(absl::Status status, ErrorReason reason) {
  if (status.ok()) return status;
  status.SetPayload(kReasonPayloadUrl, absl::Cord(v1::ErrorReason_Name(reason)));
  return status;
}

ErrorReason GetReason(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  if (!payload.has_value()) return v1::ERROR_REASON_UNSPECIFIED;
  ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  if (!v1::ErrorReason_Parse(std::string(*payload), &reason)) return v1::ERROR_REASON_UNSPECIFIED;
  return reason;
}

bool IsDbMissing(const absl::Status& status) {
  ErrorReason r = GetReason(status);
  return status.code() == absl::StatusCode::kNotFound &&
         (r == v1::DB_NOT_FOUND || r == v1::DB_QUARANTINED || r == v1::ERROR_REASON_UNSPECIFIED);
}

bool IsDeviceUnavailable(const absl::Status& status) {
  return GetReason(status) == v1::DEVICE_UNAVAILABLE;
}

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContext* context) {
  if (status.ok()) return grpc::Status::OK;
  ErrorReason reason = GetReason(status);
  if (context != nullptr && reason != v1::ERROR_REASON_UNSPECIFIED) {
    context->AddTrailingMetadata(kErrorReasonKey, v1::ErrorReason_Name(reason));
  }
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kErrorReasonKey);
  if (it != trailers.end()) {
    ErrorReason reason;
    if (v1::ErrorReason_Parse(std::string(it->second.data(), it->second.size()), &reason)) {
      out = WithReason(std::move(out), reason);
    }
  }
  return out;
}

}  // namespace dbrepl
