// dbreplctl recon: `swift-recon --replication` for dbrepl, from the agents'
// admin APIs (GetStatus) instead of recon cache files over HTTP.
//
//   dbreplctl recon 10.0.0.1:6311 10.0.0.2:6311 10.0.0.3:6311 [--json] [--timeout S]
//
// Prints, as swift-recon does, low/high/avg/total of the last pass's
// replication time, failures, successes and attempts over the agents that
// answered, the share that failed, how many did not answer, and the oldest
// and most recent pass completion with the agent that reported it. Agents
// that never finished a pass count as no_result. Exit 1 when an agent could
// not be asked, so scripts notice; 0 otherwise.
#include <algorithm>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/rpc/grpc_status.h"
#include "common/status_macros.h"
#include "dbrepl/v1/agent.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "tools/ctl_channel.h"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {
namespace {

using Json = nlohmann::ordered_json;

struct Series {
  std::vector<std::pair<double, std::string>> values;  // (value, agent)
  Json Summary() const {
    Json j;
    if (values.empty()) return Json{{"low", nullptr}, {"high", nullptr}, {"avg", nullptr}, {"total", 0}};
    double low = std::numeric_limits<double>::infinity(), high = -low, total = 0;
    for (const auto& [v, who] : values) {
      low = std::min(low, v);
      high = std::max(high, v);
      total += v;
    }
    return Json{{"low", low}, {"high", high}, {"avg", total / values.size()}, {"total", total}};
  }
};

std::string When(double t, double now) {
  const absl::Time at = absl::FromUnixSeconds(static_cast<int64_t>(t));
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S", at, absl::UTCTimeZone()), " (",
                      static_cast<int64_t>((now - t) / 60), " minutes ago)");
}

absl::Status Recon(const CtlArgs& args) {
  RETURN_IF_ERROR(args.CheckKnown(WithChannelFlags({"json", "timeout"})));
  if (args.positional().empty()) return absl::InvalidArgumentError("recon takes one or more agent admin ADDRESSes");
  ASSIGN_OR_RETURN(double timeout, args.GetDouble("timeout", 10));
  Series time, failure, success, attempted;
  std::vector<std::string> no_result, unreachable;
  double oldest = std::numeric_limits<double>::infinity(), newest = 0;
  std::string oldest_by, newest_by;
  Json agents = Json::array();
  for (const std::string& address : args.positional()) {
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, OpenChannel(args, address));
    auto stub = v1::ReplicationAgent::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(timeout)));
    v1::GetStatusResponse resp;
    absl::Status s = FromGrpcStatus(stub->GetStatus(&ctx, v1::GetStatusRequest(), &resp), ctx);
    Json a;
    a["agent"] = address;
    if (!s.ok()) {
      unreachable.push_back(address);
      a["error"] = s.ToString();
      agents.push_back(std::move(a));
      continue;
    }
    a["type"] = v1::DbType_Name(resp.type());
    a["passes_completed"] = resp.passes_completed();
    a["running"] = resp.current().running();
    if (resp.passes_completed() == 0) {
      no_result.push_back(address);
      agents.push_back(std::move(a));
      continue;
    }
    const v1::PassStatus& last = resp.last();
    const double seconds = last.end_time() - last.start_time();
    time.values.emplace_back(seconds, address);
    failure.values.emplace_back(static_cast<double>(last.stats().failure()), address);
    success.values.emplace_back(static_cast<double>(last.stats().success()), address);
    attempted.values.emplace_back(static_cast<double>(last.stats().attempted()), address);
    if (last.end_time() < oldest) {
      oldest = last.end_time();
      oldest_by = address;
    }
    if (last.end_time() > newest) {
      newest = last.end_time();
      newest_by = address;
    }
    a["last_completion"] = last.end_time();
    a["replication_time"] = seconds;
    a["failure"] = last.stats().failure();
    a["success"] = last.stats().success();
    a["attempted"] = last.stats().attempted();
    agents.push_back(std::move(a));
  }
  const double total_failure = failure.Summary()["total"].get<double>();
  const double total_success = success.Summary()["total"].get<double>();
  const double failed_pct =
      total_failure + total_success > 0 ? 100.0 * total_failure / (total_failure + total_success) : 0.0;
  const double now = absl::ToUnixMicros(absl::Now()) / 1e6;
  if (args.Has("json")) {
    Json out;
    out["agents"] = std::move(agents);
    out["replication_time"] = time.Summary();
    out["replication_failure"] = failure.Summary();
    out["replication_success"] = success.Summary();
    out["replication_attempted"] = attempted.Summary();
    out["failed_percent"] = failed_pct;
    out["no_result"] = no_result.size() + unreachable.size();
    out["reported"] = time.values.size();
    out["oldest_completion"] = time.values.empty() ? Json(nullptr) : Json{{"time", oldest}, {"agent", oldest_by}};
    out["newest_completion"] = time.values.empty() ? Json(nullptr) : Json{{"time", newest}, {"agent", newest_by}};
    out["unreachable"] = unreachable;
    std::cout << out.dump(2) << "\n";
  } else {
    auto line = [&](const char* name, const Series& s) {
      Json j = s.Summary();
      if (s.values.empty()) {
        std::cout << "[" << name << "] - No hosts returned valid data.\n";
        return;
      }
      std::cout << absl::StrFormat("[%s] low: %g, high: %g, avg: %.1f, total: %g, Failed: %.1f%%, no_result: %d, "
                                   "reported: %d\n",
                                   name, j["low"].get<double>(), j["high"].get<double>(), j["avg"].get<double>(),
                                   j["total"].get<double>(), failed_pct, no_result.size() + unreachable.size(),
                                   s.values.size());
    };
    line("replication_time", time);
    line("replication_failure", failure);
    line("replication_success", success);
    line("replication_attempted", attempted);
    if (!time.values.empty()) {
      std::cout << "Oldest completion was " << When(oldest, now) << " by " << oldest_by << ".\n";
      std::cout << "Most recent completion was " << When(newest, now) << " by " << newest_by << ".\n";
    }
    for (const std::string& a : no_result) std::cout << a << ": no pass completed yet\n";
    for (const std::string& a : unreachable) std::cout << a << ": could not be asked\n";
  }
  if (!unreachable.empty()) {
    return absl::UnavailableError(absl::StrCat(unreachable.size(), " agents could not be asked"));
  }
  return absl::OkStatus();
}

const bool registered = RegisterCommand({
    "recon",
    "recon ADDRESS [ADDRESS...] [--json] [--timeout S]",
    "swift-recon --replication from the agents' admin APIs: last pass times, failures, oldest completion",
    {"json"},
    Recon,
});

}  // namespace
}  // namespace dbrepl::ctl
