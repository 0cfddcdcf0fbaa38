// Autoshift state and practice runs: GET /v1/autoshift, GET/POST
// /v1/practice-runs, DELETE /v1/practice-runs/{id}, on the host's
// AutoshiftDetector and PracticeRunner.
#include "api/decode.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "zones/autoshift.h"
#include "zones/practice_run.h"

namespace lifeline {

using nlohmann::json;

namespace {

Status NotEnabled(const char* what) {
  return Status(StatusCode::kFailedPrecondition,
                std::string(what) + " are not enabled in this server");
}

struct ZoneAnswer {
  Status status;
  json body;
};

void Write(httplib::Response& res, const Result<ZoneAnswer>& a, int http) {
  if (!a.ok()) return WriteProblem(res, a.status());
  if (!a->status.ok()) return WriteProblem(res, a->status);
  WriteJson(res, http, a->body);
}

json EvidenceJson(const Evidence& evidence) {
  json j = json::object();
  for (const auto& [k, v] : evidence) j[k] = v;
  return j;
}

json PracticeRunView(const PracticeRun& p) {
  const PracticeRunRequest& r = p.request;
  json j = {{"id", p.id},
            {"group", r.group},
            {"zone", r.zone},
            {"state", std::string(ToString(p.state))},
            {"duration", FormatDuration(r.duration)},
            {"comment", r.comment},
            {"actor", r.actor},
            {"max_unhealthy_ratio", r.max_unhealthy_ratio},
            {"min_serving_ratio", r.min_serving_ratio},
            {"shift_id", p.shift_id},
            {"outcome", p.outcome},
            {"evidence", EvidenceJson(p.evidence)}};
  j["start_at"] =
      r.start_at == WallTime{} ? json() : json(FormatWallTime(r.start_at));
  j["started_at"] =
      p.started_at == WallTime{} ? json() : json(FormatWallTime(p.started_at));
  j["ended_at"] =
      p.ended_at == WallTime{} ? json() : json(FormatWallTime(p.ended_at));
  return j;
}

json SignalsView(const std::map<std::string, ZoneSignals>& signals) {
  json zones = json::object();
  for (const auto& [zone, s] : signals) {
    zones[zone] = {
        {"instances", s.instances},  {"failed", s.failed},
        {"silent", s.silent},        {"silent_share", s.silent_share()},
        {"reporting", s.reporting},  {"error_ratio", s.error_ratio},
        {"latency_ms", s.latency_ms}};
  }
  return zones;
}

}  // namespace

void ApiHandlers::GetAutoshift(const Req&, Res& res, const Ctx&) {
  auto a = OnLoop(backend_, [&] {
    ZoneAnswer out;
    AutoshiftDetector* d = backend_.autoshift();
    if (!d) {
      out.status = NotEnabled("autoshifts");
      return out;
    }
    Controller& c = backend_.controller();
    MonoTime now = backend_.loop().Now();
    json groups = json::array();
    for (const auto& name : c.GroupNames()) {
      const GroupSpec* spec = c.group(name);
      json g = {{"group", name},
                {"enabled", spec != nullptr && spec->autoshift.enabled},
                {"phase", "watching"},
                {"zone", ""},
                {"signal", ""},
                {"shift_id", ""},
                {"in_phase_for", nullptr},
                {"zones", SignalsView(d->SignalsOf(name))}};
      if (auto st = d->StateOf(name)) {
        g["phase"] = std::string(ToString(st->phase));
        g["zone"] = st->zone;
        g["signal"] = st->signal;
        g["shift_id"] = st->shift_id;
        if (st->since != MonoTime{} && now >= st->since) {
          g["in_phase_for"] = FormatDuration(now - st->since);
        }
      }
      groups.push_back(std::move(g));
    }
    out.body = {{"groups", groups}};
    return out;
  });
  Write(res, a, 200);
}

void ApiHandlers::ListPracticeRuns(const Req& req, Res& res, const Ctx&) {
  std::optional<std::string> group;
  for (const auto& [k, v] : req.params) {
    if (k != "group") {
      return WriteProblem(res, 400,
                          "query parameter " + k + ": unknown (known: group)");
    }
    group = v;
  }
  auto a = OnLoop(backend_, [&] {
    ZoneAnswer out;
    PracticeRunner* p = backend_.practice_runs();
    if (!p) {
      out.status = NotEnabled("practice runs");
      return out;
    }
    json list = json::array();
    for (const auto& run : p->List(group)) list.push_back(PracticeRunView(run));
    out.body = {{"practice_runs", list}};
    return out;
  });
  Write(res, a, 200);
}

void ApiHandlers::StartPracticeRun(const Req& req, Res& res, const Ctx& ctx) {
  auto r = DecodePracticeRunStart(req.body);
  if (!r.ok()) return WriteProblem(res, r.status());
  PracticeRunRequest request;
  request.group = r->group;
  request.zone = r->zone;
  if (r->start_at) request.start_at = *r->start_at;
  request.duration = r->duration;
  request.comment = r->comment;
  request.actor = ctx.actor;
  request.max_unhealthy_ratio = r->max_unhealthy_ratio;
  request.min_serving_ratio = r->min_serving_ratio;
  auto a = OnLoop(backend_, [&] {
    ZoneAnswer out;
    PracticeRunner* p = backend_.practice_runs();
    if (!p) {
      out.status = NotEnabled("practice runs");
      return out;
    }
    auto run = p->Schedule(request);
    if (!run.ok()) {
      out.status = run.status();
    } else {
      out.body = PracticeRunView(*run);
    }
    return out;
  });
  Write(res, a, 201);
}

void ApiHandlers::CancelPracticeRun(const Req&, Res& res, const Ctx& ctx) {
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    ZoneAnswer out;
    PracticeRunner* p = backend_.practice_runs();
    if (!p) {
      out.status = NotEnabled("practice runs");
      return out;
    }
    auto run = p->Cancel(id, ctx.actor);
    if (!run.ok()) {
      out.status = run.status();
    } else {
      out.body = PracticeRunView(*run);
    }
    return out;
  });
  Write(res, a, 200);
}

}  // namespace lifeline
