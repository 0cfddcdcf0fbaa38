// The API's request handlers (internal to lifeline_api; ApiServer binds
// them to the routes in routes.h after authenticating the caller).
//
// Each handler decodes and validates its request first (decode.h), then
// runs the read or command on the controller's loop through
// ApiBackend::RunOnLoop, then writes JSON or a problem. Nothing is changed
// unless decoding succeeded.
//
// Thread-safety: handlers run concurrently on the server's threads; they
// share only the backend (thread-safe by contract) and the EventFeed.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_backend.h"
#include "api/event_feed.h"
#include "api/role.h"

namespace lifeline {

struct CallContext {
  Role role = Role::kViewer;
  std::string actor;                // "api:operator"
  std::vector<std::string> params;  // path parameters, in order
};

void WriteJson(httplib::Response& res, int status, const nlohmann::json& j);
void WriteProblem(httplib::Response& res, const Status& status);
void WriteProblem(httplib::Response& res, int http_status,
                  const std::string& detail);

// Runs f on the loop and returns its result, or the error that kept the
// loop from running it.
template <typename F>
auto OnLoop(ApiBackend& backend, F&& f) -> Result<decltype(f())> {
  std::optional<decltype(f())> out;
  Status st = backend.RunOnLoop([&] { out.emplace(f()); });
  if (!st.ok()) return st.Annotate("controller loop");
  return std::move(*out);
}

class ApiHandlers {
 public:
  ApiHandlers(ApiBackend& backend, std::shared_ptr<EventFeed> feed,
              Duration stream_keepalive)
      : backend_(backend),
        feed_(std::move(feed)),
        stream_keepalive_(stream_keepalive) {}

  using Req = httplib::Request;
  using Res = httplib::Response;
  using Ctx = CallContext;

  void Healthz(const Req&, Res&, const Ctx&);
  void Readyz(const Req&, Res&, const Ctx&);
  void OpenApi(const Req&, Res&, const Ctx&);
  void Metrics(const Req&, Res&, const Ctx&);
  void Status(const Req&, Res&, const Ctx&);

  void ListGroups(const Req&, Res&, const Ctx&);
  void GetGroup(const Req&, Res&, const Ctx&);
  void ApplyGroup(const Req&, Res&, const Ctx&);
  void DeleteGroup(const Req&, Res&, const Ctx&);
  void SetDesired(const Req&, Res&, const Ctx&);
  void FreezeGroup(const Req&, Res&, const Ctx&);

  void ListInstances(const Req&, Res&, const Ctx&);
  void GetInstance(const Req&, Res&, const Ctx&);
  void SetInstanceHealth(const Req&, Res&, const Ctx&);
  void ListWorkflows(const Req&, Res&, const Ctx&);
  void GetFreeze(const Req&, Res&, const Ctx&);
  void SetFreeze(const Req&, Res&, const Ctx&);
  void Preview(const Req&, Res&, const Ctx&);
  void Why(const Req&, Res&, const Ctx&);

  // api_events.cc
  void ListEvents(const Req&, Res&, const Ctx&);
  void StreamEvents(const Req&, Res&, const Ctx&);

  // api_shifts.cc
  void ListShifts(const Req&, Res&, const Ctx&);
  void StartShift(const Req&, Res&, const Ctx&);
  void UpdateShift(const Req&, Res&, const Ctx&);
  void CancelShift(const Req&, Res&, const Ctx&);

  // api_zones.cc
  void GetAutoshift(const Req&, Res&, const Ctx&);
  void ListPracticeRuns(const Req&, Res&, const Ctx&);
  void StartPracticeRun(const Req&, Res&, const Ctx&);
  void CancelPracticeRun(const Req&, Res&, const Ctx&);

 private:
  ApiBackend& backend_;
  std::shared_ptr<EventFeed> feed_;
  Duration stream_keepalive_;
};

// The openapi.yaml text embedded at build time (generated openapi_embed.cc).
std::string_view OpenApiYaml();

}  // namespace lifeline
