#include "common/metrics_server.h"

#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"

namespace dbrepl {

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address,
                                                                   std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // prometheus-cpp reports a failure to listen only by throwing.
    exposer = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
  exposer->RegisterCollectable(registry);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer)));
}

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer) : exposer_(std::move(exposer)) {}

MetricsServer::~MetricsServer() = default;

int MetricsServer::port() const {
  std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace dbrepl
