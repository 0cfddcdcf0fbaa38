#include "providers/ec2/retry.h"

#include <algorithm>
#include <array>

namespace lifeline::ec2 {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

constexpr std::array<std::string_view, 8> kThrottling = {
    "RequestLimitExceeded",      "Throttling",
    "ThrottlingException",       "RequestThrottled",
    "RequestThrottledException", "SlowDown",
    "TooManyRequestsException",  "PriorRequestNotComplete"};

constexpr std::array<std::string_view, 6> kServerTrouble = {
    "InternalError", "InternalFailure", "ServiceUnavailable",
    "Unavailable",   "RequestTimeout",  "RequestTimeoutException"};

constexpr std::array<std::string_view, 8> kCredentials = {
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "MissingAuthenticationToken",
    "IncompleteSignature"};

constexpr std::array<std::string_view, 9> kExhausted = {
    "InsufficientInstanceCapacity",
    "InsufficientAddressCapacity",
    "InsufficientCapacity",
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "AddressLimitExceeded",
    "SnapshotLimitExceeded",
    "VolumeLimitExceeded",
    "MaxSpotInstanceCountExceeded"};

template <size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view code) {
  return std::find(set.begin(), set.end(), code) != set.end();
}

}  // namespace

bool IsThrottling(std::string_view code) { return In(kThrottling, code); }

bool IsNotFound(std::string_view code) {
  return EndsWith(code, ".NotFound") || EndsWith(code, "NotFound");
}

StatusCode MapErrorCode(std::string_view code, long http_status) {
  if (IsThrottling(code)) return StatusCode::kResourceExhausted;
  if (In(kServerTrouble, code)) return StatusCode::kUnavailable;
  if (In(kCredentials, code)) return StatusCode::kUnauthenticated;
  if (code == "UnauthorizedOperation" || code == "AccessDenied" ||
      code == "AccessDeniedException" || code == "OptInRequired" ||
      code == "Blocked") {
    return StatusCode::kPermissionDenied;
  }
  if (In(kExhausted, code)) return StatusCode::kResourceExhausted;
  if (IsNotFound(code)) return StatusCode::kNotFound;
  if (code == "IdempotentParameterMismatch") {
    return StatusCode::kFailedPrecondition;
  }
  if (EndsWith(code, ".Duplicate")) return StatusCode::kAlreadyExists;
  if (EndsWith(code, ".Malformed") || StartsWith(code, "InvalidParameter") ||
      code == "MissingParameter" || code == "UnknownParameter" ||
      code == "InvalidAction" || code == "ValidationError" ||
      code == "InvalidInput") {
    return StatusCode::kInvalidArgument;
  }
  if (code == "IncorrectInstanceState" || code == "IncorrectState" ||
      code == "VolumeInUse" || code == "Resource.AlreadyAssociated" ||
      code == "UnsupportedOperation" || code == "OperationNotPermitted") {
    return StatusCode::kFailedPrecondition;
  }
  if (http_status >= 500) return StatusCode::kUnavailable;
  if (http_status == 429) return StatusCode::kResourceExhausted;
  if (http_status == 401) return StatusCode::kUnauthenticated;
  if (http_status == 403) return StatusCode::kPermissionDenied;
  return StatusCode::kFailedPrecondition;
}

RetryKind ClassifyForRetry(std::string_view code, StatusCode mapped) {
  if (IsThrottling(code)) return RetryKind::kThrottled;
  if (mapped == StatusCode::kUnavailable ||
      mapped == StatusCode::kDeadlineExceeded) {
    return RetryKind::kTransient;
  }
  if (mapped == StatusCode::kResourceExhausted && code.empty()) {
    return RetryKind::kThrottled;  // HTTP 429 without a code
  }
  return RetryKind::kNo;
}

Duration BackoffDelay(const RetryPolicy& policy, int retry, Rng& rng) {
  Duration cap = policy.initial_backoff;
  for (int i = 1; i < retry && cap < policy.max_backoff; ++i) cap *= 2;
  cap = std::min(cap, policy.max_backoff);
  return rng.UniformDuration(cap / 2, cap);
}

}  // namespace lifeline::ec2
