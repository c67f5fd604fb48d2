#include "agent/agent_metrics.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "prometheus/family.h"
#include "prometheus/text_serializer.h"

namespace dbrepl::agent {
namespace {

prometheus::Labels TypeLabel(DbType type) { return {{"type", std::string(ServerType(type))}}; }

prometheus::Counter* NewCounter(prometheus::Registry& registry, const std::string& name, const std::string& help,
                                DbType type) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add(TypeLabel(type));
}

prometheus::Gauge* NewGauge(prometheus::Registry& registry, const std::string& name, const std::string& help,
                            DbType type) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(TypeLabel(type));
}

}  // namespace

const std::vector<std::string>& AgentMetrics::Results() {
  static const auto* results =
      new std::vector<std::string>{"success", "failure",      "no_change",    "hashmatch", "rsync",
                                   "diff",    "diff_capped",  "remote_merge", "empty",     "remove",
                                   "skipped_sharded"};
  return *results;
}

AgentMetrics::AgentMetrics(DbType type) : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  attempts_ = NewCounter(r, "dbrepl_attempts_total", "Databases a replication pass started on (Swift's attempts).",
                         type);
  auto& results = prometheus::BuildCounter()
                      .Name("dbrepl_results_total")
                      .Help("Replication outcomes by Swift's stat name: success and failure count peers, the "
                            "others count DBs.")
                      .Register(r);
  for (const std::string& result : Results()) {
    prometheus::Labels labels = TypeLabel(type);
    labels["result"] = result;
    results_[result] = &results.Add(labels);
  }
  quarantined_ = NewCounter(r, "dbrepl_quarantined_total", "Databases moved to quarantine.", type);
  rows_sent_ = NewCounter(r, "dbrepl_rows_sent_total", "Rows sent to peers in merge_items batches.", type);
  pass_duration_ =
      NewGauge(r, "dbrepl_pass_duration_seconds", "Length of the last finished replication pass.", type);
  last_pass_ = NewGauge(r, "dbrepl_last_pass_timestamp_seconds",
                        "Unix time the last replication pass finished (Swift's replication_last).", type);
  done_ = NewGauge(r, "dbrepl_databases_done", "Databases finished in the current pass.", type);
  total_ = NewGauge(r, "dbrepl_databases_total", "Databases expected in the current pass (may be an estimate).",
                    type);
}

AgentMetrics::~AgentMetrics() = default;

absl::Status AgentMetrics::Serve(const std::string& address) {
  if (server_ != nullptr) return absl::FailedPreconditionError("metrics: already serving");
  absl::StatusOr<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(address, registry_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  return absl::OkStatus();
}

int AgentMetrics::port() const { return server_ == nullptr ? 0 : server_->port(); }

void AgentMetrics::CountAttempt() { attempts_->Increment(); }

void AgentMetrics::Count(const std::string& result, int64_t n) {
  auto it = results_.find(result);
  if (it == results_.end()) {
    LOG(ERROR) << "metrics: unknown replication result '" << result << "' not counted";
    return;
  }
  it->second->Increment(static_cast<double>(n));
}

void AgentMetrics::CountQuarantined(int64_t n) { quarantined_->Increment(static_cast<double>(n)); }

void AgentMetrics::AddRowsSent(int64_t rows) { rows_sent_->Increment(static_cast<double>(rows)); }

void AgentMetrics::PassFinished(double duration, double end_time) {
  pass_duration_->Set(duration);
  last_pass_->Set(end_time);
}

void AgentMetrics::SetProgress(int64_t done, int64_t total) {
  done_->Set(static_cast<double>(done));
  total_->Set(static_cast<double>(total));
}

std::string AgentMetrics::Scrape() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace dbrepl::agent
