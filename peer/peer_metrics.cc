#include "peer/peer_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"

namespace dbrepl::peer {

PeerMetrics::PeerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("dbrepl_peer_requests_total")
                    .Help("ReplicationPeer calls by method and gRPC status code.")
                    .Register(*registry_)),
      rows_(prometheus::BuildCounter()
                .Name("dbrepl_peer_rows_merged_total")
                .Help("Rows that changed a database in MergeItems batches, by database type.")
                .Register(*registry_)),
      batches_(prometheus::BuildCounter()
                   .Name("dbrepl_peer_batches_total")
                   .Help("MergeItems batches committed and acknowledged, by database type.")
                   .Register(*registry_)) {}

absl::Status PeerMetrics::Serve(const std::string& address) {
  if (server_ != nullptr) return absl::FailedPreconditionError("metrics: already serving");
  absl::StatusOr<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(address, registry_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  return absl::OkStatus();
}

int PeerMetrics::port() const { return server_ == nullptr ? 0 : server_->port(); }

void PeerMetrics::CountRequest(const std::string& method, const absl::Status& outcome) {
  requests_.Add({{"method", method}, {"code", absl::StatusCodeToString(outcome.code())}}).Increment();
}

void PeerMetrics::CountBatch(DbType type, int64_t rows_applied) {
  std::string t(ServerType(type));
  batches_.Add({{"type", t}}).Increment();
  rows_.Add({{"type", t}}).Increment(static_cast<double>(rows_applied));
}

double PeerMetrics::RequestCount(const std::string& method, absl::StatusCode code) {
  return requests_.Add({{"method", method}, {"code", absl::StatusCodeToString(code)}}).Value();
}

}  // namespace dbrepl::peer
