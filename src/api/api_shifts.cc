// Zonal shifts: GET/POST /v1/zonal-shifts, PATCH/DELETE
// /v1/zonal-shifts/{id}, on the host's ZonalShiftManager.
#include "api/decode.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/views.h"
#include "zones/zonal_shift.h"

namespace lifeline {

using nlohmann::json;

namespace {

Status NoShifts() {
  return Status(StatusCode::kFailedPrecondition,
                "zonal shifts are not enabled in this server");
}

struct ShiftAnswer {
  Status status;
  json body;
};

void Write(httplib::Response& res, const Result<ShiftAnswer>& a, int http) {
  if (!a.ok()) return WriteProblem(res, a.status());
  if (!a->status.ok()) return WriteProblem(res, a->status);
  WriteJson(res, http, a->body);
}

}  // namespace

void ApiHandlers::ListShifts(const Req& req, Res& res, const Ctx&) {
  ZonalShiftFilter filter;
  for (const auto& [k, v] : req.params) {
    if (k == "group") {
      filter.group = v;
    } else if (k == "state") {
      ZonalShiftState s;
      if (!ParseZonalShiftState(v, &s)) {
        return WriteProblem(res, 400,
                            "query parameter state: \"" + v +
                                "\" is not one of active, expired, canceled");
      }
      filter.state = s;
    } else if (k == "source") {
      ZonalShiftSource s;
      if (!ParseZonalShiftSource(v, &s)) {
        return WriteProblem(res, 400,
                            "query parameter source: \"" + v +
                                "\" is not one of manual, autoshift, "
                                "practice_run");
      }
      filter.source = s;
    } else {
      return WriteProblem(
          res, 400,
          "query parameter " + k + ": unknown (known: group, state, source)");
    }
  }
  auto a = OnLoop(backend_, [&] {
    ShiftAnswer out;
    ZonalShiftManager* z = backend_.zonal_shifts();
    if (!z) {
      out.status = NoShifts();
      return out;
    }
    json list = json::array();
    for (const auto& s : z->List(filter)) list.push_back(ShiftView(s));
    out.body = {{"zonal_shifts", list}};
    return out;
  });
  Write(res, a, 200);
}

void ApiHandlers::StartShift(const Req& req, Res& res, const Ctx& ctx) {
  auto r = DecodeShiftStart(req.body);
  if (!r.ok()) return WriteProblem(res, r.status());
  ZonalShiftRequest request;
  request.group = r->group;
  request.away_from = r->away_from;
  request.expires_in = r->expires_in;
  request.comment = r->comment;
  request.skip_validation = r->skip_validation;
  request.actor = ctx.actor;
  request.source = ZonalShiftSource::kManual;
  auto a = OnLoop(backend_, [&] {
    ShiftAnswer out;
    ZonalShiftManager* z = backend_.zonal_shifts();
    if (!z) {
      out.status = NoShifts();
      return out;
    }
    json list = json::array();
    if (request.group == "*") {
      auto started = z->StartForAllGroups(request);
      if (!started.ok()) {
        out.status = started.status();
        return out;
      }
      for (const auto& s : *started) list.push_back(ShiftView(s));
    } else {
      auto started = z->Start(request);
      if (!started.ok()) {
        out.status = started.status();
        return out;
      }
      list.push_back(ShiftView(*started));
    }
    out.body = {{"zonal_shifts", list}};
    return out;
  });
  Write(res, a, 201);
}

void ApiHandlers::UpdateShift(const Req& req, Res& res, const Ctx& ctx) {
  auto r = DecodeShiftUpdate(req.body);
  if (!r.ok()) return WriteProblem(res, r.status());
  ZonalShiftUpdate update;
  update.expires_in = r->expires_in;
  update.comment = r->comment;
  update.actor = ctx.actor;
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    ShiftAnswer out;
    ZonalShiftManager* z = backend_.zonal_shifts();
    if (!z) {
      out.status = NoShifts();
      return out;
    }
    auto updated = z->Update(id, update);
    if (!updated.ok()) {
      out.status = updated.status();
    } else {
      out.body = ShiftView(*updated);
    }
    return out;
  });
  Write(res, a, 200);
}

void ApiHandlers::CancelShift(const Req& req, Res& res, const Ctx& ctx) {
  std::string reason = req.get_param_value("reason");
  if (reason.size() > 1024) {
    return WriteProblem(res, 400,
                        "query parameter reason: longer than 1024 "
                        "bytes");
  }
  const std::string& id = ctx.params[0];
  auto a = OnLoop(backend_, [&] {
    ShiftAnswer out;
    ZonalShiftManager* z = backend_.zonal_shifts();
    if (!z) {
      out.status = NoShifts();
      return out;
    }
    auto canceled = z->Cancel(id, ctx.actor, reason);
    if (!canceled.ok()) {
      out.status = canceled.status();
    } else {
      out.body = ShiftView(*canceled);
    }
    return out;
  });
  Write(res, a, 200);
}

}  // namespace lifeline
