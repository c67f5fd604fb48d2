// PeerMetrics: Prometheus counters of the peer, per operation and outcome:
//   dbrepl_peer_requests_total{method="Sync",code="OK"}
//   dbrepl_peer_rows_merged_total{type="container"}
//   dbrepl_peer_batches_total{type="container"}
// and of its state cache (sampled, see SetStateCache):
//   dbrepl_peer_state_cache_entries, dbrepl_peer_held_sync_points
//   dbrepl_peer_state_cache_sqlite_reads_total, dbrepl_peer_states_refreshed_total
// Exposed on /metrics when a port is given. Thread-safe.
#ifndef DBREPL_PEER_PEER_METRICS_H_
#define DBREPL_PEER_PEER_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/db_type.h"
#include "common/metrics_server.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace dbrepl::peer {

class PeerMetrics {
 public:
  PeerMetrics();

  // Starts serving /metrics on `address` ("127.0.0.1:9101"; port 0 picks a
  // free port, see port()) with a MetricsServer (common/metrics_server.h).
  // UNAVAILABLE if it cannot listen; FAILED_PRECONDITION if already serving.
  // Serving stops at destruction.
  absl::Status Serve(const std::string& address);
  // The port Serve() listens on; 0 before Serve().
  int port() const;

  void CountRequest(const std::string& method, const absl::Status& outcome);
  void CountBatch(DbType type, int64_t rows_applied);

  // What the state cache holds and has done so far (ReplicatorRpc::
  // CacheStats), sampled by the caller now and then; the counters advance
  // by the difference from the last sample.
  struct StateCacheSample {
    uint64_t entries = 0, held_points = 0, sqlite_reads = 0, refreshed = 0;
  };
  void SetStateCache(const StateCacheSample& sample);

  // Current value, for tests.
  double RequestCount(const std::string& method, absl::StatusCode code);

  std::shared_ptr<prometheus::Registry> registry() { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& rows_;
  prometheus::Family<prometheus::Counter>& batches_;
  prometheus::Gauge& cache_entries_;
  prometheus::Gauge& held_points_;
  prometheus::Counter& sqlite_reads_;
  prometheus::Counter& refreshed_;
  StateCacheSample last_;  // Guarded by being called from one thread.
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace dbrepl::peer

#endif  // DBREPL_PEER_PEER_METRICS_H_
