// dbreplctl subcommands that talk to running dbrepl processes over gRPC:
//   health ADDRESS [--service S] [--timeout SECONDS]
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {
namespace {

absl::Status Health(const CtlArgs& args) {
  if (absl::Status s = args.CheckKnown({"service", "timeout"}); !s.ok()) return s;
  if (args.positional().size() != 1) return absl::InvalidArgumentError("expected exactly one ADDRESS (host:port)");
  absl::StatusOr<double> timeout = args.GetDouble("timeout", 10);
  if (!timeout.ok()) return timeout.status();
  auto channel = grpc::CreateChannel(args.positional()[0], grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(*timeout)));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(args.Get("service"));
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(args.positional()[0], ": ", s.error_message()));
  }
  std::string status = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  std::cout << args.positional()[0] << " " << (req.service().empty() ? "(server)" : req.service()) << ": "
            << status << "\n";
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::FailedPreconditionError(absl::StrCat("not serving: ", status));
  }
  return absl::OkStatus();
}

const bool kRegistered = RegisterCommand({
    "health",
    "health ADDRESS [--service NAME] [--timeout SECONDS]",
    "gRPC health check of a dbrepl-peer or dbrepl-agent (\"liveness\", \"readiness\" or a service name); "
    "exits 0 only when SERVING",
    {},
    Health,
});

}  // namespace
}  // namespace dbrepl::ctl
