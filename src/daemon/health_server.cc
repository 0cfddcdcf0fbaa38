#include "daemon/health_server.h"

#include <httplib.h>

namespace lifeline {

HealthServer::HealthServer(Daemon& daemon)
    : daemon_(daemon), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& r) {
    r.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz",
               [this](const httplib::Request&, httplib::Response& r) {
                 bool ready = daemon_.Ready();
                 r.status = ready ? 200 : 503;
                 r.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
               });
  server_->Get(
      "/metrics", [this](const httplib::Request&, httplib::Response& r) {
        r.set_content(daemon_.MetricsText(), "text/plain; version=0.0.4");
      });
}

HealthServer::~HealthServer() { Stop(); }

Status HealthServer::Start() {
  std::string host;
  int port = 0;
  LIFELINE_RETURN_IF_ERROR(
      ParseListenAddress(daemon_.config().api.listen, &host, &port));
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ < 0) {
    return Unavailable("daemon: cannot listen on " +
                       daemon_.config().api.listen);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void HealthServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace lifeline
