// The one place where absl::Status becomes grpc::Status, and back.
//
// Inside dbrepl every function returns absl::Status, classified with the
// reasons of common/errors.h. At a service edge, ToGrpcStatus() keeps the code
// (absl and gRPC share the canonical numbering) and message, and puts the
// reason's token in the trailing metadata key "dbrepl-error-reason"; on the
// client, FromGrpcStatus() restores the code, message and reason, so the
// caller branches with IsDbMissing()/IsDeviceUnavailable() exactly as it would
// on a local status.
//
//   grpc::Status PeerService::Sync(grpc::ServerContext* context, ...) {
//     return ToGrpcStatus(rpc_.Sync(...), context);
//   }
//   ...
//   absl::Status s = FromGrpcStatus(stub->Sync(&ctx, req, &resp), ctx);
//
// Only service edges and clients use this header: the agent's PeerClient and
// AdminService, the peer's PeerService, dbreplctl. The storage layer never
// does (it has no gRPC at all).
//
// Thread-safe: the functions touch nothing but their arguments.
#ifndef DBREPL_COMMON_RPC_GRPC_STATUS_H_
#define DBREPL_COMMON_RPC_GRPC_STATUS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace dbrepl {

// The trailing-metadata key that carries the reason's token.
inline constexpr char kErrorReasonKey[] = "dbrepl-error-reason";

// Service edge: `status` as gRPC. When it has a reason and `context` is not
// null, the reason's token is added to `context`'s trailing metadata.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContext* context);

// Client edge: the inverse. Reads the reason from `context`'s trailing
// metadata, which is valid once the call has finished; an unknown token (from
// a newer peer) is dropped, leaving the code and message.
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

// One entry's status inside a batch answer (CompleteRsyncBatch's
// InstallResult, SyncPartitions' PartitionHandshake): the code, the reason's
// token and the message, as fields of the entry.
struct StatusFields {
  int32_t code = 0;
  std::string reason;
  std::string message;
};
StatusFields ToStatusFields(const absl::Status& status);
// The inverse; an unknown token is dropped, as FromGrpcStatus drops it.
absl::Status FromStatusFields(int32_t code, absl::string_view reason, absl::string_view message);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RPC_GRPC_STATUS_H_
