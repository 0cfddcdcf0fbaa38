#include "api/api_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>

#include "api/handlers.h"
#include "api/problem.h"
#include "api/routes.h"

namespace lifeline {

bool ApiTlsSupported() {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  return true;
#else
  return false;
#endif
}

struct ApiServer::Impl {
  Impl(ApiBackend& b, ApiServerOptions o) : backend(b), options(std::move(o)) {}

  using Method = void (ApiHandlers::*)(const httplib::Request&,
                                       httplib::Response&, const CallContext&);
  Method HandlerFor(const ApiRoute& r) const;
  void Bind(const ApiRoute& route, Method m);
  void Serve(const ApiRoute& route, Method m, const httplib::Request& req,
             httplib::Response& res);
  httplib::Server::HandlerResponse OnError(const httplib::Request& req,
                                           httplib::Response& res);

  ApiBackend& backend;
  ApiServerOptions options;
  std::unique_ptr<httplib::Server> server;
  std::shared_ptr<EventFeed> feed;
  std::unique_ptr<ApiHandlers> handlers;
  std::vector<ApiRoute> routes;
  bool tls = false;
  bool started = false;
};

ApiServer::Impl::Method ApiServer::Impl::HandlerFor(const ApiRoute& r) const {
  static const struct {
    const char* method;
    const char* path;
    Method handler;
  } kTable[] = {
      {"GET", "/healthz", &ApiHandlers::Healthz},
      {"GET", "/readyz", &ApiHandlers::Readyz},
      {"GET", "/openapi.yaml", &ApiHandlers::OpenApi},
      {"GET", "/metrics", &ApiHandlers::Metrics},
      {"GET", "/v1/status", &ApiHandlers::Status},
      {"GET", "/v1/groups", &ApiHandlers::ListGroups},
      {"GET", "/v1/groups/{name}", &ApiHandlers::GetGroup},
      {"PUT", "/v1/groups/{name}", &ApiHandlers::ApplyGroup},
      {"DELETE", "/v1/groups/{name}", &ApiHandlers::DeleteGroup},
      {"POST", "/v1/groups/{name}/desired-capacity", &ApiHandlers::SetDesired},
      {"PUT", "/v1/groups/{name}/freeze", &ApiHandlers::FreezeGroup},
      {"GET", "/v1/instances", &ApiHandlers::ListInstances},
      {"GET", "/v1/instances/{id}", &ApiHandlers::GetInstance},
      {"POST", "/v1/instances/{id}/health", &ApiHandlers::SetInstanceHealth},
      {"GET", "/v1/workflows", &ApiHandlers::ListWorkflows},
      {"GET", "/v1/freeze", &ApiHandlers::GetFreeze},
      {"PUT", "/v1/freeze", &ApiHandlers::SetFreeze},
      {"GET", "/v1/events", &ApiHandlers::ListEvents},
      {"GET", "/v1/events/stream", &ApiHandlers::StreamEvents},
      {"GET", "/v1/preview", &ApiHandlers::Preview},
      {"GET", "/v1/why/{id}", &ApiHandlers::Why},
      {"GET", "/v1/zonal-shifts", &ApiHandlers::ListShifts},
      {"POST", "/v1/zonal-shifts", &ApiHandlers::StartShift},
      {"PATCH", "/v1/zonal-shifts/{id}", &ApiHandlers::UpdateShift},
      {"DELETE", "/v1/zonal-shifts/{id}", &ApiHandlers::CancelShift},
      {"GET", "/v1/autoshift", &ApiHandlers::GetAutoshift},
      {"GET", "/v1/practice-runs", &ApiHandlers::ListPracticeRuns},
      {"POST", "/v1/practice-runs", &ApiHandlers::StartPracticeRun},
      {"DELETE", "/v1/practice-runs/{id}", &ApiHandlers::CancelPracticeRun},
  };
  for (const auto& e : kTable) {
    if (r.method == e.method && r.path == e.path) return e.handler;
  }
  return nullptr;
}

void ApiServer::Impl::Serve(const ApiRoute& route, Method m,
                            const httplib::Request& req,
                            httplib::Response& res) {
  CallContext ctx;
  if (route.role) {
    std::string auth = req.get_header_value("Authorization");
    const std::string kBearer = "Bearer ";
    if (auth.empty()) {
      res.set_header("WWW-Authenticate", "Bearer");
      return WriteProblem(res, 401,
                          "missing bearer token: send the header "
                          "\"Authorization: Bearer <token>\"");
    }
    if (auth.compare(0, kBearer.size(), kBearer) != 0 ||
        auth.size() == kBearer.size()) {
      res.set_header("WWW-Authenticate", "Bearer");
      return WriteProblem(res, 401,
                          "header Authorization: expected \"Bearer <token>\"");
    }
    auto role = backend.Authenticate(auth.substr(kBearer.size()));
    if (!role.ok()) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return WriteProblem(res, 401, "invalid bearer token");
    }
    if (!RoleAllows(*role, *route.role)) {
      return WriteProblem(res, 403,
                          route.method + " " + route.path + " needs the " +
                              std::string(ToString(*route.role)) +
                              " role; this token is " +
                              std::string(ToString(*role)));
    }
    ctx.role = *role;
    ctx.actor = "api:" + std::string(ToString(*role));
  }
  for (size_t i = 1; i < req.matches.size(); ++i) {
    ctx.params.push_back(req.matches[i].str());
  }
  (handlers.get()->*m)(req, res, ctx);
}

void ApiServer::Impl::Bind(const ApiRoute& route, Method m) {
  std::string pattern = PathRegex(route.path);
  auto fn = [this, route, m](const httplib::Request& req,
                             httplib::Response& res) {
    Serve(route, m, req, res);
  };
  if (route.method == "GET") {
    server->Get(pattern, fn);
  } else if (route.method == "PUT") {
    server->Put(pattern, fn);
  } else if (route.method == "POST") {
    server->Post(pattern, fn);
  } else if (route.method == "PATCH") {
    server->Patch(pattern, fn);
  } else if (route.method == "DELETE") {
    server->Delete(pattern, fn);
  }
}

httplib::Server::HandlerResponse ApiServer::Impl::OnError(
    const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  if (res.status == 404) {
    std::string allow;
    for (const auto& r : routes) {
      if (PathMatches(r.path, req.path)) {
        allow += (allow.empty() ? "" : ", ") + r.method;
      }
    }
    if (!allow.empty()) {
      res.set_header("Allow", allow);
      WriteProblem(res, 405,
                   req.method + " is not allowed on " + req.path +
                       " (allowed: " + allow + ")");
    } else {
      WriteProblem(res, 404,
                   "no such endpoint: " + req.method + " " + req.path +
                       " (see /openapi.yaml)");
    }
  } else if (res.status == 413) {
    WriteProblem(res, 413,
                 "request body larger than " +
                     std::to_string(options.max_body_bytes) + " bytes");
  } else {
    WriteProblem(res, res.status, "the request could not be processed");
  }
  return httplib::Server::HandlerResponse::Handled;
}

ApiServer::ApiServer(ApiBackend& backend, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(backend, std::move(options))) {}

ApiServer::~ApiServer() { Stop(); }

bool ApiServer::tls() const { return impl_->tls; }

Status ApiServer::Start() {
  Impl& m = *impl_;
  if (m.started) return FailedPrecondition("api: server already started");
  bool want_tls =
      !m.options.tls_cert_file.empty() || !m.options.tls_key_file.empty();
  if (want_tls) {
    if (m.options.tls_cert_file.empty() || m.options.tls_key_file.empty()) {
      return InvalidArgument("api: TLS needs both a certificate and a key");
    }
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    auto ssl = std::make_unique<httplib::SSLServer>(
        m.options.tls_cert_file.c_str(), m.options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return InvalidArgument("api: cannot load TLS certificate " +
                             m.options.tls_cert_file + " / key " +
                             m.options.tls_key_file);
    }
    m.server = std::move(ssl);
    m.tls = true;
#else
    return InvalidArgument("api: this build has no TLS support");
#endif
  } else {
    m.server = std::make_unique<httplib::Server>();
  }

  // Subscribe to the history on the loop, where it is appended to.
  uint64_t base = 0;
  auto holder = std::make_shared<std::shared_ptr<EventFeed>>();
  Status subscribed = m.backend.RunOnLoop([&] {
    HistoryQuery q;
    q.limit = 1;
    auto newest = m.backend.history().Query(q);
    base = newest.empty() ? 0 : newest.back().seq;
    *holder = std::make_shared<EventFeed>(m.options.stream_buffer, base);
    std::weak_ptr<EventFeed> weak = *holder;
    m.backend.history().AddListener([weak](const HistoryEvent& e) {
      if (auto feed = weak.lock()) feed->Publish(e);
    });
  });
  if (!subscribed.ok())
    return subscribed.Annotate("api: subscribing to history");
  m.feed = *holder;
  m.handlers = std::make_unique<ApiHandlers>(m.backend, m.feed,
                                             m.options.stream_keepalive);

  m.routes = ApiRoutes(/*with_zonal_shifts=*/true);
  for (const auto& r : m.routes) {
    Impl::Method h = m.HandlerFor(r);
    if (!h) return Internal("api: no handler for " + r.method + " " + r.path);
    m.Bind(r, h);
  }
  int threads = std::max(2, m.options.threads);
  m.server->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  m.server->set_payload_max_length(m.options.max_body_bytes);
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which
  // would let a second lifelined bind the same port and split the requests.
  m.server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  m.server->set_error_handler(httplib::Server::HandlerWithResponse(
      [&m](const httplib::Request& req, httplib::Response& res) {
        return m.OnError(req, res);
      }));
  m.server->set_exception_handler([](const httplib::Request&,
                                     httplib::Response& res,
                                     std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    WriteProblem(res, 500, "internal error: " + what);
  });

  if (m.options.port == 0) {
    port_ = m.server->bind_to_any_port(m.options.host);
    if (port_ < 0) port_ = 0;
  } else if (m.server->bind_to_port(m.options.host, m.options.port)) {
    port_ = m.options.port;
  }
  if (port_ <= 0) {
    m.feed->Close();
    return Unavailable("api: cannot listen on " + m.options.host + ":" +
                       std::to_string(m.options.port));
  }
  m.started = true;
  httplib::Server* server = m.server.get();
  auto exited = std::make_shared<std::atomic<bool>>(false);
  listener_ = std::thread([server, exited] {
    server->listen_after_bind();
    exited->store(true);
  });
  // stop() only takes effect once the accept loop runs; it starts at once
  // (the socket already listens), so wait for that instead of racing it.
  while (!server->is_running() && !exited->load()) std::this_thread::yield();
  return Status::Ok();
}

void ApiServer::Stop() {
  Impl& m = *impl_;
  if (m.feed) m.feed->Close();
  if (m.server) m.server->stop();
  if (listener_.joinable()) listener_.join();
  m.started = false;
}

}  // namespace lifeline
