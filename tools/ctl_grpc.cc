// dbreplctl subcommands that talk to running dbrepl processes over gRPC:
//   health ADDRESS [--service S] [--timeout SECONDS]
//   status ADDRESS                       agent: current and last pass (JSON)
//   run-pass ADDRESS [--devices D] [--partitions P]
//   replicate ADDRESS --type T --device D --partition P --hash H
// A failed call is reported as "ADDRESS: CODE (REASON): message", the reason
// being the dbrepl-error-reason token scripts can branch on.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/numbers.h"
#include "common/errors.h"
#include "common/rpc/grpc_status.h"
#include "tools/ctl_channel.h"
#include "dbrepl/v1/agent.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {
namespace {

// The failed call's status, converted as every client converts it, with the
// address, code and reason (when the server gave one) in the message.
absl::Status Failed(const CtlArgs& args, const grpc::Status& s, const grpc::ClientContext& ctx) {
  const absl::Status status = FromGrpcStatus(s, ctx);
  const ErrorReason reason = GetReason(status);
  std::string what = absl::StatusCodeToString(status.code());
  if (reason != ErrorReason::kUnspecified) absl::StrAppend(&what, " (", ErrorReasonName(reason), ")");
  return WithReason(absl::Status(status.code(), absl::StrCat(args.positional()[0], ": ", what, ": ", status.message())),
                    reason);
}

// Follows grpc.health.v1.Health/Watch until the service is SERVING or the
// deadline passes: a real wait, not polling.
absl::Status WatchUntilServing(grpc::health::v1::Health::Stub* stub, const std::string& address,
                               const std::string& service, double timeout) {
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(timeout)));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  auto reader = stub->Watch(&ctx, req);
  grpc::health::v1::HealthCheckResponse resp;
  std::string last = "UNKNOWN";
  while (reader->Read(&resp)) {
    last = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
    if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      ctx.TryCancel();
      reader->Finish();
      std::cout << address << " " << (service.empty() ? "(server)" : service) << ": SERVING\n";
      return absl::OkStatus();
    }
  }
  grpc::Status s = reader->Finish();
  return absl::DeadlineExceededError(absl::StrCat(address, " ", service, " not SERVING after ", timeout,
                                                  "s (last: ", last, s.ok() ? "" : ", " + s.error_message(), ")"));
}

absl::Status Health(const CtlArgs& args) {
  if (absl::Status s = args.CheckKnown(WithChannelFlags({"service", "timeout", "wait"})); !s.ok()) return s;
  if (args.positional().size() != 1) return absl::InvalidArgumentError("expected exactly one ADDRESS (host:port)");
  absl::StatusOr<double> timeout = args.GetDouble("timeout", 10);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(args, args.positional()[0]);
  if (!channel.ok()) return channel.status();
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  if (args.Has("wait")) return WatchUntilServing(stub.get(), args.positional()[0], args.Get("service"), *timeout);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(*timeout)));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(args.Get("service"));
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return Failed(args, s, ctx);
  std::string status = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  std::cout << args.positional()[0] << " " << (req.service().empty() ? "(server)" : req.service()) << ": "
            << status << "\n";
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::FailedPreconditionError(absl::StrCat("not serving: ", status));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<v1::ReplicationAgent::Stub>> AgentStub(const CtlArgs& args) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(args, args.positional()[0]);
  if (!channel.ok()) return channel.status();
  return v1::ReplicationAgent::NewStub(*channel);
}

absl::Status PrintJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  auto s = google::protobuf::util::MessageToJsonString(m, &json, o);
  if (!s.ok()) return absl::InternalError(std::string(s.message()));
  std::cout << json;
  return absl::OkStatus();
}

void SetDeadline(grpc::ClientContext* ctx, double seconds) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(seconds)));
}

absl::Status Status(const CtlArgs& args) {
  if (absl::Status s = args.CheckKnown(WithChannelFlags({})); !s.ok()) return s;
  if (args.positional().size() != 1) return absl::InvalidArgumentError("expected the agent's admin ADDRESS");
  absl::StatusOr<std::unique_ptr<v1::ReplicationAgent::Stub>> stub = AgentStub(args);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, 10);
  v1::GetStatusResponse resp;
  grpc::Status s = (*stub)->GetStatus(&ctx, v1::GetStatusRequest(), &resp);
  if (!s.ok()) return Failed(args, s, ctx);
  return PrintJson(resp);
}

absl::Status RunPass(const CtlArgs& args) {
  if (absl::Status s = args.CheckKnown(WithChannelFlags({"devices", "partitions"})); !s.ok()) return s;
  if (args.positional().size() != 1) return absl::InvalidArgumentError("expected the agent's admin ADDRESS");
  absl::StatusOr<std::unique_ptr<v1::ReplicationAgent::Stub>> stub = AgentStub(args);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, 10);
  v1::RunPassRequest req;
  req.set_devices(args.Get("devices"));
  req.set_partitions(args.Get("partitions"));
  v1::RunPassResponse resp;
  grpc::Status s = (*stub)->RunPass(&ctx, req, &resp);
  if (!s.ok()) return Failed(args, s, ctx);
  return PrintJson(resp);
}

absl::Status Replicate(const CtlArgs& args) {
  if (absl::Status s = args.CheckKnown(WithChannelFlags({"type", "device", "partition", "hash"})); !s.ok()) return s;
  if (args.positional().size() != 1) return absl::InvalidArgumentError("expected the agent's admin ADDRESS");
  v1::ReplicateDbRequest req;
  std::string type = args.Get("type", "container");
  if (type != "account" && type != "container") return absl::InvalidArgumentError("--type is account or container");
  req.mutable_db()->set_type(type == "account" ? v1::ACCOUNT : v1::CONTAINER);
  req.mutable_db()->set_device(args.Get("device"));
  absl::StatusOr<int64_t> part = args.GetInt("partition", -1);
  if (!part.ok()) return part.status();
  req.mutable_db()->set_partition(*part);
  req.mutable_db()->set_hash(args.Get("hash"));
  absl::StatusOr<std::unique_ptr<v1::ReplicationAgent::Stub>> stub = AgentStub(args);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, 300);
  v1::ReplicateDbResponse resp;
  grpc::Status s = (*stub)->ReplicateDb(&ctx, req, &resp);
  if (!s.ok()) return Failed(args, s, ctx);
  return PrintJson(resp);
}

const bool kStatusRegistered = RegisterCommand({
    "status", "status ADDRESS", "an agent's current and last pass: progress, rate, ETA, Swift's counters (JSON)",
    {}, Status});
const bool kRunPassRegistered = RegisterCommand({
    "run-pass", "run-pass ADDRESS [--devices D1,D2] [--partitions P1,P2]",
    "asks an agent to start a pass now (unless one is running)", {}, RunPass});
const bool kReplicateRegistered = RegisterCommand({
    "replicate", "replicate ADDRESS --type account|container --device D --partition P --hash H",
    "asks an agent to replicate one local database now and prints what happened with each peer", {}, Replicate});

const bool kRegistered = RegisterCommand({
    "health",
    "health ADDRESS [--service NAME] [--timeout SECONDS] [--wait]",
    "gRPC health check of a dbrepl-peer or dbrepl-agent (\"liveness\", \"readiness\" or a service name); "
    "exits 0 only when SERVING; --wait follows the status until it is SERVING or the timeout passes",
    {"wait"},
    Health,
});

}  // namespace
}  // namespace dbrepl::ctl
