// AgentMetrics: the agent's Prometheus metrics, Swift's replicator statsd
// counters mapped one to one so that dashboards carry over:
//
//   dbrepl_attempts_total{type}                  statsd "attempts"
//   dbrepl_results_total{type,result}            "successes", "failures", "no_changes",
//       result = success|failure|no_change|      "hashmatches", "rsyncs", "diffs",
//       hashmatch|rsync|diff|diff_capped|         "diff_caps", "remote_merges",
//       remote_merge|empty|remove                 "removes.<device>" (summed); empty is never
//                                                 incremented, as in Swift
//   dbrepl_quarantined_total{type}               DBs moved to quarantine
//   dbrepl_rows_sent_total{type}                 rows sent in merge_items batches
//   dbrepl_pass_duration_seconds{type}           gauge: length of the last finished pass
//   dbrepl_last_pass_timestamp_seconds{type}     gauge: Unix time the last pass finished
//   dbrepl_databases_done{type}                  gauge: DBs finished in the current pass
//   dbrepl_databases_total{type}                 gauge: DBs expected in the current pass
//
// `type` is "account" or "container". Every series exists (at 0) from
// construction, so a dashboard sees zeroes rather than gaps.
//
//   AgentMetrics metrics(DbType::kContainer);
//   RETURN_IF_ERROR(metrics.Serve("0.0.0.0:9102"));   // GET /metrics
//   metrics.CountAttempt();
//   metrics.Count("no_change");
//
// Thread-safety: thread-safe; the counting methods are lock-free increments.
#ifndef DBREPL_AGENT_AGENT_METRICS_H_
#define DBREPL_AGENT_AGENT_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/db_type.h"
#include "common/metrics_server.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace dbrepl::agent {

class AgentMetrics {
 public:
  explicit AgentMetrics(DbType type);
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // The values of the `result` label, in the order above.
  static const std::vector<std::string>& Results();

  // Starts serving /metrics on `address` ("127.0.0.1:9102"; port 0 picks a
  // free port, see port()) with a MetricsServer (common/metrics_server.h).
  // UNAVAILABLE if it cannot listen; FAILED_PRECONDITION if already serving.
  // Serving stops at destruction.
  absl::Status Serve(const std::string& address);
  // The port Serve() listens on; 0 before Serve().
  int port() const;

  void CountAttempt();
  // Adds `n` to dbrepl_results_total{result}. `result` must be one of
  // Results(); anything else is a programming error, logged and ignored.
  void Count(const std::string& result, int64_t n = 1);
  void CountQuarantined(int64_t n = 1);
  void AddRowsSent(int64_t rows);
  // At the end of a pass: its length in seconds and the Unix time it ended.
  void PassFinished(double duration, double end_time);
  // Progress of the current pass.
  void SetProgress(int64_t done, int64_t total);

  // The text exposition format of every metric, as GET /metrics returns it.
  std::string Scrape() const;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* attempts_;
  std::map<std::string, prometheus::Counter*> results_;
  prometheus::Counter* quarantined_;
  prometheus::Counter* rows_sent_;
  prometheus::Gauge* pass_duration_;
  prometheus::Gauge* last_pass_;
  prometheus::Gauge* done_;
  prometheus::Gauge* total_;
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace dbrepl::agent

#endif  // DBREPL_AGENT_AGENT_METRICS_H_
