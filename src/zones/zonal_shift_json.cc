// JSON form of a ZonalShift, for the daemon's store and the HTTP API.
#include <nlohmann/json.hpp>

#include "zones/zonal_shift.h"

namespace lifeline {

std::string ZonalShiftToJson(const ZonalShift& s) {
  nlohmann::json j;
  j["id"] = s.id;
  j["group"] = s.group;
  j["away_from"] = s.away_from;
  j["source"] = ToString(s.source);
  j["state"] = ToString(s.state);
  j["comment"] = s.comment;
  j["started_by"] = s.started_by;
  j["started_at"] = FormatWallTime(s.started_at);
  j["expires_at"] = FormatWallTime(s.expires_at);
  if (s.state != ZonalShiftState::kActive) {
    j["ended_at"] = FormatWallTime(s.ended_at);
    j["ended_by"] = s.ended_by;
    j["end_reason"] = s.end_reason;
  }
  j["validation_skipped"] = s.validation_skipped;
  nlohmann::json ev = nlohmann::json::array();
  for (const auto& [k, v] : s.evidence) ev.push_back({k, v});
  j["evidence"] = ev;
  return j.dump();
}

Result<ZonalShift> ParseZonalShiftJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("zonal shift: not a JSON object");
  }
  ZonalShift s;
  std::string field;
  try {
    auto str = [&](const char* name, bool required) {
      field = name;
      if (!required && !j.contains(name)) return std::string();
      return j.at(name).get<std::string>();
    };
    auto time = [&](const char* name, WallTime* out) -> Status {
      std::string v = str(name, true);
      if (!ParseWallTime(v, out)) {
        return InvalidArgument("zonal shift " + s.id + ": field " + name +
                               " '" + v + "' is not an RFC 3339 UTC time");
      }
      return Status::Ok();
    };
    s.id = str("id", true);
    if (s.id.empty()) return InvalidArgument("zonal shift: field id is empty");
    s.group = str("group", true);
    s.away_from = str("away_from", true);
    std::string source = str("source", true);
    if (!ParseZonalShiftSource(source, &s.source)) {
      return InvalidArgument("zonal shift " + s.id + ": unknown source '" +
                             source + "'");
    }
    std::string state = str("state", true);
    if (!ParseZonalShiftState(state, &s.state)) {
      return InvalidArgument("zonal shift " + s.id + ": unknown state '" +
                             state + "'");
    }
    s.comment = str("comment", false);
    s.started_by = str("started_by", false);
    LIFELINE_RETURN_IF_ERROR(time("started_at", &s.started_at));
    LIFELINE_RETURN_IF_ERROR(time("expires_at", &s.expires_at));
    if (s.state != ZonalShiftState::kActive) {
      LIFELINE_RETURN_IF_ERROR(time("ended_at", &s.ended_at));
      s.ended_by = str("ended_by", false);
      s.end_reason = str("end_reason", false);
    }
    field = "validation_skipped";
    s.validation_skipped = j.value("validation_skipped", false);
    field = "evidence";
    for (const auto& kv : j.value("evidence", nlohmann::json::array())) {
      s.evidence.emplace_back(kv.at(0).get<std::string>(),
                              kv.at(1).get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("zonal shift " + s.id + ": field " + field + ": " +
                           e.what());
  }
  return s;
}

}  // namespace lifeline
