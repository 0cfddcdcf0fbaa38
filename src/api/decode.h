// Request decoding for the HTTP API: pure functions from request bodies and
// query parameters to typed requests. Nothing here touches the controller,
// so every rule is unit-tested and fuzzed (fuzz/api_request_fuzzer.cc).
//
// Every decoder is strict: malformed JSON, a body that is not an object,
// unknown fields, wrong types and out-of-range values are kInvalidArgument
// with a message that names the field, what was expected and what was
// found, e.g. "field launch.volumes[0].size_gib: expected an integer, got
// a string". Durations are strings in the form "90s", "30m", "1h30m".
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "history/history.h"
#include "model/group_spec.h"

namespace lifeline {

// Query parameters as cpp-httplib hands them over (a key may repeat).
using QueryParams = std::multimap<std::string, std::string>;

// Parses `body` as a JSON object.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// PUT /v1/groups/{name}: a full GroupSpec. Fields left out keep GroupSpec's
// defaults; "name", when present, must equal `name`. The result has passed
// GroupSpec::Validate().
Result<GroupSpec> DecodeGroupSpec(std::string_view body,
                                  const std::string& name);
// The same JSON form, for GET /v1/groups/{name}: decoding it gives the
// spec back.
nlohmann::json EncodeGroupSpec(const GroupSpec& spec);
// Validates a group or instance name taken from a path: 1..128 of
// [A-Za-z0-9._:-].
Status ValidateName(std::string_view what, std::string_view name);

// POST /v1/groups/{name}/desired-capacity {"desired": N}, 0 <= N <= 1e6.
Result<int> DecodeDesiredCapacity(std::string_view body);

// POST /v1/instances/{id}/health {"status": "healthy"|"unhealthy"|
// "automatic", "reason": "..."}. automatic = no operator opinion.
struct InstanceHealthRequest {
  std::optional<bool> healthy;
  std::string reason;
};
Result<InstanceHealthRequest> DecodeInstanceHealth(std::string_view body);

// PUT /v1/freeze and PUT /v1/groups/{name}/freeze {"frozen": bool,
// "reason": "..."}.
struct FreezeRequest {
  bool frozen = false;
  std::string reason;
};
Result<FreezeRequest> DecodeFreeze(std::string_view body);

// POST /v1/zonal-shifts {"group": "web"|"*", "away_from": "zone",
// "expires_in": "30m", "comment": "...", "skip_validation": false}.
// expires_in is between 1m and 72h.
inline constexpr Duration kMaxShiftDuration = std::chrono::hours(72);
inline constexpr Duration kMinShiftDuration = std::chrono::minutes(1);
struct ShiftStartRequest {
  std::string group;
  std::string away_from;
  Duration expires_in{};
  std::string comment;
  bool skip_validation = false;
};
Result<ShiftStartRequest> DecodeShiftStart(std::string_view body);

// PATCH /v1/zonal-shifts/{id} {"expires_in": "1h", "comment": "..."}: at
// least one of the two.
struct ShiftUpdateRequest {
  std::optional<Duration> expires_in;
  std::optional<std::string> comment;
};
Result<ShiftUpdateRequest> DecodeShiftUpdate(std::string_view body);

// POST /v1/practice-runs {"group": "web", "zone": "sim-1a", "duration":
// "30m", "start_at": RFC 3339 (default now), "comment": "...",
// "max_unhealthy_ratio": 0.1, "min_serving_ratio": 0.9} (decode_zones.cc).
// group and zone are required; duration is within (0, 4h].
struct PracticeRunStartRequest {
  std::string group;
  std::string zone;
  std::optional<WallTime> start_at;
  Duration duration = std::chrono::minutes(30);
  std::string comment;
  double max_unhealthy_ratio = 0.1;
  double min_serving_ratio = 0.9;
};
Result<PracticeRunStartRequest> DecodePracticeRunStart(std::string_view body);

// GET /v1/events and /v1/events/stream: instance, group, zone, type (a
// prefix: "recovery." or "recovery.started"), kind, since, until (RFC 3339),
// after (a seq), limit (1..10000, default 100).
Result<HistoryQuery> DecodeEventsQuery(const QueryParams& params);

// GET /v1/instances: group, zone, health (healthy|unhealthy|suspect), role
// (active|replacement|retiring|standby).
struct InstanceFilter {
  std::optional<std::string> group, zone, health, role;
};
Result<InstanceFilter> DecodeInstanceFilter(const QueryParams& params);

}  // namespace lifeline
