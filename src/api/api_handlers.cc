// Handlers for health, status, groups, instances, workflows, freeze,
// preview and why.
#include <algorithm>

#include "api/decode.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/views.h"
#include "zones/zonal_shift.h"

namespace lifeline {

using nlohmann::json;

void WriteJson(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(DumpJson(j, 2) + "\n", "application/json");
}

void WriteProblem(httplib::Response& res, int http_status,
                  const std::string& detail) {
  res.status = http_status;
  res.set_content(DumpJson(ProblemJson(http_status, detail), 2) + "\n",
                  kProblemContentType);
}

void WriteProblem(httplib::Response& res, const lifeline::Status& status) {
  WriteProblem(res, HttpStatusFor(status.code()), status.message());
}

namespace {

// A value or the status that stopped it, from a loop task.
struct Answer {
  lifeline::Status status;
  json body;
  int http = 200;
};

void Write(httplib::Response& res, const Result<Answer>& a) {
  if (!a.ok()) return WriteProblem(res, a.status());
  if (!a->status.ok()) return WriteProblem(res, a->status);
  WriteJson(res, a->http, a->body);
}

// An Answer carrying only a command's status.
Answer Done(lifeline::Status st) {
  Answer a;
  a.status = std::move(st);
  return a;
}

lifeline::Status GroupNotFound(const std::string& name) {
  return NotFound("group \"" + name + "\" does not exist");
}

}  // namespace

void ApiHandlers::Healthz(const Req&, Res& res, const Ctx&) {
  WriteJson(res, 200, {{"status", "ok"}});
}

void ApiHandlers::Readyz(const Req&, Res& res, const Ctx&) {
  if (backend_.Ready()) return WriteJson(res, 200, {{"status", "ready"}});
  WriteProblem(res, 503, "not ready: adopting instances or opening the store");
}

void ApiHandlers::OpenApi(const Req&, Res& res, const Ctx&) {
  res.status = 200;
  res.set_content(std::string(OpenApiYaml()), "application/yaml");
}

void ApiHandlers::Metrics(const Req&, Res& res, const Ctx&) {
  res.status = 200;
  res.set_content(backend_.MetricsText(), "text/plain; version=0.0.4");
}

void ApiHandlers::Status(const Req&, Res& res, const Ctx&) {
  bool ready = backend_.Ready();
  auto j = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    int instances = 0, unhealthy = 0, suspect = 0;
    for (const auto& [id, rec] : c.instances()) {
      ++instances;
      if (rec.verdict.unhealthy) ++unhealthy;
      if (rec.verdict.suspect) ++suspect;
    }
    json groups = json::array();
    for (const auto& name : c.GroupNames()) {
      groups.push_back(GroupSummaryView(c, name));
    }
    const ControllerStats& s = c.stats();
    int shifts = 0;
    if (ZonalShiftManager* z = backend_.zonal_shifts()) {
      ZonalShiftFilter f;
      f.state = ZonalShiftState::kActive;
      shifts = static_cast<int>(z->List(f).size());
    }
    return json{{"fleet_frozen", c.governor().fleet_frozen()},
                {"partitioned", c.governor().partitioned()},
                {"fleet_panic", c.governor().InPanic("", "")},
                {"instances", instances},
                {"unhealthy", unhealthy},
                {"suspect", suspect},
                {"workflows", c.workflows().size()},
                {"active_zonal_shifts", shifts},
                {"groups", groups},
                {"stats",
                 {{"decisions", s.decisions},
                  {"approvals", s.approvals},
                  {"deferrals", s.deferrals},
                  {"launches", s.launches},
                  {"terminates", s.terminates},
                  {"reboots", s.reboots},
                  {"recovers", s.recovers},
                  {"recoveries_succeeded", s.recoveries_succeeded},
                  {"recoveries_failed", s.recoveries_failed}}}};
  });
  if (!j.ok()) return WriteProblem(res, j.status());
  (*j)["ready"] = ready;
  WriteJson(res, 200, *j);
}

// ---- groups -------------------------------------------------------------

void ApiHandlers::ListGroups(const Req&, Res& res, const Ctx&) {
  auto groups = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    json out = json::array();
    for (const auto& name : c.GroupNames()) {
      out.push_back(GroupSummaryView(c, name));
    }
    return out;
  });
  if (!groups.ok()) return WriteProblem(res, groups.status());
  WriteJson(res, 200, {{"groups", *groups}});
}

void ApiHandlers::GetGroup(const Req&, Res& res, const Ctx& ctx) {
  const std::string& name = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    const GroupSpec* spec = c.group(name);
    if (!spec) {
      out.status = GroupNotFound(name);
      return out;
    }
    out.body = GroupSummaryView(c, name);
    out.body["spec"] = EncodeGroupSpec(*spec);
    out.body["active_zonal_shift"] = json();
    if (ZonalShiftManager* z = backend_.zonal_shifts()) {
      if (const ZonalShift* s = z->ActiveShift(name)) {
        out.body["active_zonal_shift"] = ShiftView(*s);
      }
    }
    return out;
  });
  Write(res, a);
}

void ApiHandlers::ApplyGroup(const Req& req, Res& res, const Ctx& ctx) {
  auto spec = DecodeGroupSpec(req.body, ctx.params[0]);
  if (!spec.ok()) return WriteProblem(res, spec.status());
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    bool existed = c.group(spec->name) != nullptr;
    out.status = c.ApplyGroup(*spec, ctx.actor);
    if (out.status.ok()) {
      out.body = GroupSummaryView(c, spec->name);
      out.http = existed ? 200 : 201;
    }
    return out;
  });
  Write(res, a);
}

void ApiHandlers::DeleteGroup(const Req&, Res& res, const Ctx& ctx) {
  const std::string& name = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Answer out = Done(backend_.controller().DeleteGroup(name, ctx.actor));
    out.body = {{"deleted", name}};
    return out;
  });
  Write(res, a);
}

void ApiHandlers::SetDesired(const Req& req, Res& res, const Ctx& ctx) {
  auto desired = DecodeDesiredCapacity(req.body);
  if (!desired.ok()) return WriteProblem(res, desired.status());
  const std::string& name = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    out.status = c.SetDesiredCapacity(name, *desired, ctx.actor);
    if (out.status.ok()) out.body = GroupSummaryView(c, name);
    return out;
  });
  Write(res, a);
}

void ApiHandlers::FreezeGroup(const Req& req, Res& res, const Ctx& ctx) {
  auto f = DecodeFreeze(req.body);
  if (!f.ok()) return WriteProblem(res, f.status());
  const std::string& name = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Answer out = Done(backend_.controller().SetGroupFrozen(
        name, f->frozen, f->reason, ctx.actor));
    out.body = {{"group", name}, {"frozen", f->frozen}, {"reason", f->reason}};
    return out;
  });
  Write(res, a);
}

// ---- instances ----------------------------------------------------------

namespace {

bool Keep(const InstanceFilter& f, const InstanceRecord& r) {
  if (f.group && r.info.group != *f.group) return false;
  if (f.zone && r.info.zone != *f.zone) return false;
  if (f.health && HealthOf(r) != *f.health) return false;
  if (f.role && ToString(r.role) != *f.role) return false;
  return true;
}

std::vector<HistoryEvent> InstanceEvents(History& h, const std::string& id,
                                         size_t limit) {
  HistoryQuery q;
  q.instance = id;
  q.limit = limit;
  return h.Query(q);
}

}  // namespace

void ApiHandlers::ListInstances(const Req& req, Res& res, const Ctx&) {
  auto filter = DecodeInstanceFilter(req.params);
  if (!filter.ok()) return WriteProblem(res, filter.status());
  auto list = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    std::vector<const InstanceRecord*> recs;
    for (const auto& [id, rec] : c.instances()) {
      if (Keep(*filter, rec)) recs.push_back(&rec);
    }
    std::sort(recs.begin(), recs.end(), [](const auto* a, const auto* b) {
      return a->info.id < b->info.id;
    });
    json out = json::array();
    MonoTime now = backend_.loop().Now();
    for (const auto* r : recs) out.push_back(InstanceView(*r, now, false));
    return out;
  });
  if (!list.ok()) return WriteProblem(res, list.status());
  size_t n = list->size();
  WriteJson(res, 200, {{"instances", std::move(*list)}, {"count", n}});
}

void ApiHandlers::GetInstance(const Req&, Res& res, const Ctx& ctx) {
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    const InstanceRecord* rec = c.instance(id);
    if (!rec) {
      out.status =
          NotFound("instance \"" + id + "\" is not managed by Lifeline");
      return out;
    }
    MonoTime now = backend_.loop().Now();
    out.body = InstanceView(*rec, now, true);
    if (!rec->workflow.empty()) {
      auto it = c.workflows().find(rec->workflow);
      if (it != c.workflows().end()) {
        out.body["workflow_detail"] = WorkflowView(it->second, now);
      }
    }
    json history = json::array();
    for (const auto& e : InstanceEvents(backend_.history(), id, 50)) {
      history.push_back(EventView(e));
    }
    out.body["history"] = history;
    return out;
  });
  Write(res, a);
}

void ApiHandlers::SetInstanceHealth(const Req& req, Res& res, const Ctx& ctx) {
  auto h = DecodeInstanceHealth(req.body);
  if (!h.ok()) return WriteProblem(res, h.status());
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    out.status = c.SetInstanceHealth(id, h->healthy, h->reason, ctx.actor);
    if (out.status.ok()) {
      out.body = InstanceView(*c.instance(id), backend_.loop().Now(), true);
    }
    return out;
  });
  Write(res, a);
}

void ApiHandlers::ListWorkflows(const Req&, Res& res, const Ctx&) {
  auto list = OnLoop(backend_, [&] {
    json out = json::array();
    MonoTime now = backend_.loop().Now();
    for (const auto& [id, wf] : backend_.controller().workflows()) {
      out.push_back(WorkflowView(wf, now));
    }
    return out;
  });
  if (!list.ok()) return WriteProblem(res, list.status());
  WriteJson(res, 200, {{"workflows", *list}});
}

// ---- freeze -------------------------------------------------------------

namespace {

// The reason given with the newest freeze command for `group` ("" = fleet).
std::string FreezeReason(History& h, const std::string& group) {
  HistoryQuery q;
  q.type_prefix = "freeze.on";
  q.group = group;
  q.limit = 1;
  auto events = h.Query(q);
  if (events.empty()) return "";
  const std::string& m = events.back().message;
  auto colon = m.find(": ");
  return colon == std::string::npos ? "" : m.substr(colon + 2);
}

}  // namespace

void ApiHandlers::GetFreeze(const Req&, Res& res, const Ctx&) {
  auto j = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    bool frozen = c.governor().fleet_frozen();
    json groups = json::object();
    for (const auto& name : c.GroupNames()) {
      bool g = c.governor().group_frozen(name);
      groups[name] = {{"frozen", g},
                      {"reason", g ? FreezeReason(c.history(), name) : ""}};
    }
    return json{{"frozen", frozen},
                {"reason", frozen ? FreezeReason(c.history(), "") : ""},
                {"groups", groups}};
  });
  if (!j.ok()) return WriteProblem(res, j.status());
  WriteJson(res, 200, *j);
}

void ApiHandlers::SetFreeze(const Req& req, Res& res, const Ctx& ctx) {
  auto f = DecodeFreeze(req.body);
  if (!f.ok()) return WriteProblem(res, f.status());
  auto a = OnLoop(backend_, [&] {
    Answer out = Done(
        backend_.controller().SetFleetFrozen(f->frozen, f->reason, ctx.actor));
    out.body = {{"frozen", f->frozen}, {"reason", f->reason}};
    return out;
  });
  Write(res, a);
}

// ---- preview and why ----------------------------------------------------

void ApiHandlers::Preview(const Req&, Res& res, const Ctx&) {
  auto list = OnLoop(backend_, [&] {
    json out = json::array();
    for (const auto& a : backend_.controller().Preview()) {
      out.push_back(PlannedActionView(a));
    }
    return out;
  });
  if (!list.ok()) return WriteProblem(res, list.status());
  WriteJson(res, 200, {{"actions", *list}});
}

void ApiHandlers::Why(const Req&, Res& res, const Ctx& ctx) {
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    Controller& c = backend_.controller();
    Answer out;
    const InstanceRecord* rec = c.instance(id);
    std::vector<HistoryEvent> events =
        InstanceEvents(backend_.history(), id, 1000);
    if (!rec && events.empty()) {
      out.status = NotFound("instance \"" + id +
                            "\" is not managed by Lifeline and has no history");
      return out;
    }
    MonoTime now = backend_.loop().Now();
    json decisions = json::array();
    for (const auto& e : events) {
      if (e.kind == EventKind::kObservation && e.type != "instance.unhealthy" &&
          e.type != "instance.healthy" && e.type != "instance.suspect") {
        continue;
      }
      decisions.push_back(EventView(e));
    }
    json planned = json::array();
    if (rec) {
      for (const auto& p : c.Preview()) {
        if (p.instance == id) planned.push_back(PlannedActionView(p));
      }
    }
    out.body = {{"instance", id},
                {"managed", rec != nullptr},
                {"current", rec ? InstanceView(*rec, now, true) : json()},
                {"planned", planned},
                {"events", decisions}};
    return out;
  });
  Write(res, a);
}

}  // namespace lifeline
