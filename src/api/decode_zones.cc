// Decoding of the zone requests that are not zonal shifts (decode.h).
#include "api/decode.h"
#include "api/json_reader.h"

namespace lifeline {

Result<PracticeRunStartRequest> DecodePracticeRunStart(std::string_view body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed.ok()) return parsed.status();
  JsonReader r(*parsed, "");
  PracticeRunStartRequest req;
  LIFELINE_RETURN_IF_ERROR(r.Require("group"));
  LIFELINE_RETURN_IF_ERROR(r.Require("zone"));
  LIFELINE_RETURN_IF_ERROR(r.String("group", &req.group, 128));
  LIFELINE_RETURN_IF_ERROR(ValidateName("group", req.group));
  LIFELINE_RETURN_IF_ERROR(r.String("zone", &req.zone, 128));
  LIFELINE_RETURN_IF_ERROR(ValidateName("zone", req.zone));
  LIFELINE_RETURN_IF_ERROR(r.Dur("duration", &req.duration,
                                 std::chrono::seconds(1),
                                 std::chrono::hours(4)));
  std::optional<std::string> start_at;
  LIFELINE_RETURN_IF_ERROR(r.OptString("start_at", &start_at, 64));
  if (start_at) {
    WallTime t;
    if (!ParseWallTime(*start_at, &t)) {
      return InvalidArgument("field start_at: \"" + *start_at +
                             "\" is not an RFC 3339 time such as "
                             "2026-01-01T00:00:00Z");
    }
    req.start_at = t;
  }
  LIFELINE_RETURN_IF_ERROR(r.String("comment", &req.comment, 1024));
  LIFELINE_RETURN_IF_ERROR(
      r.Double("max_unhealthy_ratio", &req.max_unhealthy_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(
      r.Double("min_serving_ratio", &req.min_serving_ratio, 0, 1));
  LIFELINE_RETURN_IF_ERROR(r.Finish());
  return req;
}

}  // namespace lifeline
