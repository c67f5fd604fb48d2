#include "peer/peer_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

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
                   .Register(*registry_)),
      cache_entries_(prometheus::BuildGauge()
                         .Name("dbrepl_peer_state_cache_entries")
                         .Help("Databases whose replication state the peer has cached.")
                         .Register(*registry_)
                         .Add({})),
      held_points_(prometheus::BuildGauge()
                       .Name("dbrepl_peer_held_sync_points")
                       .Help("Databases with hash-match sync points held in memory, to be written behind.")
                       .Register(*registry_)
                       .Add({})),
      sqlite_reads_(prometheus::BuildCounter()
                        .Name("dbrepl_peer_state_cache_sqlite_reads_total")
                        .Help("Replication states read by opening SQLite (not cached, or changed).")
                        .Register(*registry_)
                        .Add({})),
      refreshed_(prometheus::BuildCounter()
                     .Name("dbrepl_peer_states_refreshed_total")
                     .Help("Merged databases whose new state was cached through the merge's connection.")
                     .Register(*registry_)
                     .Add({})) {}

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

void PeerMetrics::SetStateCache(const StateCacheSample& sample) {
  cache_entries_.Set(static_cast<double>(sample.entries));
  held_points_.Set(static_cast<double>(sample.held_points));
  if (sample.sqlite_reads > last_.sqlite_reads) {
    sqlite_reads_.Increment(static_cast<double>(sample.sqlite_reads - last_.sqlite_reads));
  }
  if (sample.refreshed > last_.refreshed) refreshed_.Increment(static_cast<double>(sample.refreshed - last_.refreshed));
  last_ = sample;
}

double PeerMetrics::RequestCount(const std::string& method, absl::StatusCode code) {
  return requests_.Add({{"method", method}, {"code", absl::StatusCodeToString(code)}}).Value();
}

}  // namespace dbrepl::peer
