// Status and Result<T>: errors as values.
//
// A Status carries a code that tells the caller what to do next: retry
// (kUnavailable, kResourceExhausted, kDeadlineExceeded, kAborted) or stop until
// something is fixed (kInvalidArgument, kFailedPrecondition, kNotFound, ...).
// Messages name the object and the operation, e.g.
//   "ec2: TerminateInstances(i-0abc): throttled, retry in 400ms".
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lifeline {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // caller's input is wrong; do not retry
  kNotFound,            // object does not exist (may be eventual consistency)
  kAlreadyExists,       // idempotent duplicate
  kFailedPrecondition,  // system not in a state to do this; fix first
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kResourceExhausted,   // throttled or out of capacity; retry later
  kUnavailable,         // transient outage; retry with backoff
  kDeadlineExceeded,    // timed out; outcome unknown, retry idempotently
  kAborted,             // concurrency conflict; retry
  kInternal,            // a bug or an invariant broken
  kDataLoss,            // stored data damaged or lost
};

std::string_view ToString(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when repeating the same (idempotent) request later may succeed.
  bool retryable() const;

  // A hint from the callee (e.g. a provider's throttling response).
  std::optional<std::chrono::milliseconds> retry_after() const {
    return retry_after_;
  }
  Status& set_retry_after(std::chrono::milliseconds d) {
    retry_after_ = d;
    return *this;
  }

  // "UNAVAILABLE: ec2: ... " form, for logs and the history.
  std::string ToString() const;

  // Prefixes the message with context: "launch(web-3): " + message.
  Status Annotate(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Aborted(std::string m) {
  return {StatusCode::kAborted, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}

// Result<T> holds a T or a non-OK Status. (std::expected is C++23.)
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(runtime/explicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(runtime/explicit)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Evaluates expr (a Status); returns it from the enclosing function if not OK.
#define LIFELINE_RETURN_IF_ERROR(expr)       \
  do {                                       \
    ::lifeline::Status _st = (expr);         \
    if (!_st.ok()) return _st;               \
  } while (0)

}  // namespace lifeline
