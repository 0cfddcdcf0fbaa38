// Problem details (RFC 7807) for API errors: every error response is
// application/problem+json with type, title, status and a detail that says
// what was wrong (the field, the expected type, the id not found).
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace lifeline {

inline constexpr const char* kProblemContentType = "application/problem+json";

// The HTTP status for a Status code: kInvalidArgument 400, kUnauthenticated
// 401, kPermissionDenied 403, kNotFound 404, kAlreadyExists and
// kFailedPrecondition 409, kResourceExhausted 429, kUnavailable 503,
// kDeadlineExceeded 504, anything else 500.
int HttpStatusFor(StatusCode code);

// {"type": "urn:lifeline:problem:<slug>", "title": ..., "status": ...,
//  "detail": ...}
nlohmann::json ProblemJson(int http_status, const std::string& detail);
nlohmann::json ProblemJson(const Status& status);

// JSON text that never throws: invalid UTF-8 (from a path or a query
// parameter echoed in a message) is replaced.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace lifeline
