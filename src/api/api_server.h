// ApiServer: Lifeline's HTTP JSON API (docs/api.md, openapi.yaml), on
// cpp-httplib's thread-pool server.
//
// Routes are listed in routes.h; everything under /v1 needs a bearer token
// whose role (ApiBackend::Authenticate) allows the route: viewer for GET,
// operator for health / freeze / zonal shifts / desired capacity, admin for
// applying and deleting groups. Missing or unknown token: 401; too small a
// role: 403. Every error is application/problem+json naming what was wrong,
// and a request that fails decoding or validation changes nothing.
//
// Handler threads never touch the controller: every read and command runs
// inside ApiBackend::RunOnLoop on the controller's loop thread. The server
// subscribes to the History (on the loop, at Start) to feed
// /v1/events/stream.
//
// Thread-safety: Start and Stop from one owning thread; the handlers run on
// the server's own threads. The backend must outlive the server.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api/api_backend.h"
#include "core/clock.h"
#include "core/status.h"

namespace lifeline {

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 9440;  // 0: any free port (see ApiServer::port())
  // Both set: serve HTTPS with this PEM certificate chain and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Handler threads; each open event stream holds one.
  int threads = 16;
  size_t max_body_bytes = 1 << 20;
  // An idle event stream sends a comment this often (detects gone clients).
  Duration stream_keepalive = std::chrono::seconds(15);
  // Events kept for streams that fall behind (older ones come from the
  // History).
  size_t stream_buffer = 4096;
};

class ApiServer {
 public:
  ApiServer(ApiBackend& backend, ApiServerOptions options);
  ~ApiServer();  // Stop()s
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Subscribes to the history (through RunOnLoop, so the loop must be
  // running), binds and starts serving; returns once the socket listens.
  // kUnavailable when the address cannot be bound, kInvalidArgument when
  // the TLS files cannot be loaded or TLS is not compiled in.
  Status Start();
  // Ends event streams, stops accepting and waits for the handlers.
  // Idempotent.
  void Stop();

  // The bound port (after Start).
  int port() const { return port_; }
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread listener_;
  int port_ = 0;
};

// Whether the linked cpp-httplib was built with OpenSSL.
bool ApiTlsSupported();

}  // namespace lifeline
