// MetricsServer: serves a Prometheus registry as GET /metrics over HTTP (the
// text exposition format), the one place dbrepl-agent's and dbrepl-peer's
// metrics are exposed from.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   ASSIGN_OR_RETURN(std::unique_ptr<MetricsServer> server,
//                    MetricsServer::Start("0.0.0.0:9102", registry));
//   LOG(INFO) << "metrics on port " << server->port();
//
// Lifecycle: Start() binds and begins serving at once on its own threads
// (prometheus-cpp's civetweb); serving stops when the MetricsServer is
// destroyed. There is no restart: start another.
//
// Thread-safety: port() may be called from any thread; the registry may be
// updated concurrently with scrapes (prometheus-cpp's metrics are atomic).
#ifndef DBREPL_COMMON_METRICS_SERVER_H_
#define DBREPL_COMMON_METRICS_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace dbrepl {

class MetricsServer {
 public:
  // Serves `registry` on `address` ("host:port"; port 0 picks a free port,
  // see port()). UNAVAILABLE, naming the address, if it cannot listen (the
  // port is taken, the address is not local, the syntax is wrong).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::shared_ptr<prometheus::Registry> registry);

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port being listened on.
  int port() const;

 private:
  explicit MetricsServer(std::unique_ptr<prometheus::Exposer> exposer);

  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_METRICS_SERVER_H_
