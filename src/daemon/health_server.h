// HealthServer: a minimal HTTP server for /healthz, /readyz and /metrics,
// used by lifelined only when it is built without the HTTP API (src/api).
//
//   /healthz  200 "ok" while the process serves
//   /readyz   200 "ready" once Daemon::Ready(), else 503 "not ready"
//   /metrics  Prometheus text exposition
//
// Thread-safety: Start and Stop from the owning thread; handlers run on
// cpp-httplib's threads and call only Daemon's thread-safe methods.
#pragma once

#include <memory>
#include <thread>

#include "daemon/daemon.h"

namespace httplib {
class Server;
}

namespace lifeline {

class HealthServer {
 public:
  explicit HealthServer(Daemon& daemon);
  ~HealthServer();  // Stop()s

  // Binds api.listen and serves; kUnavailable when the bind fails.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  Daemon& daemon_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace lifeline
