#include "api/problem.h"

namespace lifeline {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return 500;
  }
  return 500;
}

namespace {
struct Kind {
  int status;
  const char* slug;
  const char* title;
};
constexpr Kind kKinds[] = {
    {400, "invalid-request", "Invalid request"},
    {401, "unauthenticated", "Missing or invalid bearer token"},
    {403, "forbidden", "The token's role does not allow this"},
    {404, "not-found", "Not found"},
    {405, "method-not-allowed", "Method not allowed"},
    {409, "conflict", "Conflict with the current state"},
    {413, "payload-too-large", "Request body too large"},
    {429, "too-many-requests", "Too many requests"},
    {500, "internal", "Internal error"},
    {501, "not-implemented", "Not implemented"},
    {503, "unavailable", "Service unavailable"},
    {504, "timeout", "Timed out"},
};
}  // namespace

nlohmann::json ProblemJson(int http_status, const std::string& detail) {
  const char* slug = "error";
  const char* title = "Error";
  for (const Kind& k : kKinds) {
    if (k.status == http_status) {
      slug = k.slug;
      title = k.title;
    }
  }
  return {{"type", std::string("urn:lifeline:problem:") + slug},
          {"title", title},
          {"status", http_status},
          {"detail", detail}};
}

nlohmann::json ProblemJson(const Status& status) {
  return ProblemJson(HttpStatusFor(status.code()), status.message());
}

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lifeline
