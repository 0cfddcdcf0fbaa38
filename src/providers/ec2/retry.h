// Retry decisions for EC2 calls: which AWS error codes map to which Status
// code, which are repeated automatically, and how long to wait in between
// (capped exponential backoff with jitter).
//
// Thread-safety: pure functions; the Rng passed in belongs to the caller.
#pragma once

#include <string_view>

#include "core/clock.h"
#include "core/rng.h"
#include "core/status.h"

namespace lifeline::ec2 {

struct RetryPolicy {
  // Attempts per call, the first included. 1 disables retries.
  int max_attempts = 8;
  // Backoff before retry n (n = 1, 2, ...) is drawn uniformly from
  // [cap/2, cap] where cap = min(max_backoff, initial_backoff * 2^(n-1)).
  Duration initial_backoff = milliseconds(200);
  Duration max_backoff = seconds(20);
  // How long InvalidInstanceID.NotFound (and the like) is retried for an
  // instance this provider launched itself: EC2's API is eventually
  // consistent, and a fresh id may be unknown to the next call.
  Duration eventual_consistency_window = seconds(90);
};

// Maps an AWS error code (and the HTTP status it came with) to a Status
// code. Throttling -> kResourceExhausted, server-side trouble ->
// kUnavailable, credentials -> kUnauthenticated, permissions ->
// kPermissionDenied, *.NotFound -> kNotFound, malformed requests ->
// kInvalidArgument, wrong state -> kFailedPrecondition. Unknown codes
// follow the HTTP status (5xx -> kUnavailable, else kFailedPrecondition).
StatusCode MapErrorCode(std::string_view code, long http_status);

// True for the codes EC2 uses when it throttles a caller.
bool IsThrottling(std::string_view code);
// True for "<Resource>.NotFound" codes that eventual consistency explains
// just after a resource was created.
bool IsNotFound(std::string_view code);

enum class RetryKind {
  kNo,         // return the error to the caller
  kThrottled,  // the request was refused, never executed: always safe
  kTransient,  // 5xx / transport trouble: the request may have executed
};
// Whether an error should be retried automatically by the client.
// Capacity errors (InsufficientInstanceCapacity) are kResourceExhausted
// but are NOT retried here: the caller should rather try another zone.
RetryKind ClassifyForRetry(std::string_view code, StatusCode mapped);

// The delay before retry `retry` (1-based), per RetryPolicy.
Duration BackoffDelay(const RetryPolicy& policy, int retry, Rng& rng);

}  // namespace lifeline::ec2
