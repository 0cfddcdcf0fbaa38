// WebhookDispatcher: POSTs notable History events to configured URLs in an
// EventBridge-like envelope (docs/api.md, Webhooks):
//
//   {"version": "0", "id": "lifeline-<seq>", "detail-type": "Lifeline
//    Recovery Started", "source": "lifeline", "time": "...Z",
//    "region": "...", "resources": ["<instance id>"],
//    "detail": {"type": "recovery.started", "seq": ..., "kind": ...,
//               "group": ..., "zone": ..., "instance": ..., "rule": ...,
//               "message": ..., "evidence": {...}}}
//
// Delivered types: instance.unhealthy, recovery.started/succeeded/failed,
// safety.deferred (a refusal), safety.panic.*, safety.partition.*,
// zonal_shift.started/ended, autoshift.*. A target may narrow these with
// type prefixes.
//
// Signing: a target with a signing_secret gets two more headers on every
// request, X-Lifeline-Timestamp (unix seconds of the attempt) and
// X-Lifeline-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "."
// + body)). The receiver recomputes it and rejects stale timestamps.
//
// The History listener (on the controller's loop thread) only enqueues into
// a bounded queue — it never blocks on the network; when the queue is full
// the oldest delivery is dropped and counted. One worker thread POSTs; a
// non-2xx answer or a transport error is retried with exponential backoff
// and jitter (timing decided on the injected Clock; the worker waits on a
// condition variable), up to max_attempts, then given up and counted.
// SetTargets() replaces the targets while running (a config reload):
// deliveries already queued keep the target they were queued for.
//
// Thread-safety: all public methods are thread-safe. The listener returned
// by MakeListener() may outlive the dispatcher (it then does nothing).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "core/status.h"
#include "history/history.h"

namespace lifeline {

struct WebhookTarget {
  std::string url;  // "http://host:port/path" or "https://..."
  // Type prefixes to deliver ("recovery.", "safety.panic."); empty: every
  // delivered type.
  std::vector<std::string> types;
  // Extra request headers (e.g. Authorization for the receiver).
  std::map<std::string, std::string> headers;
  // HMAC-SHA256 key; empty: requests are not signed.
  std::string signing_secret;
  // Per attempt; zero: WebhookOptions::request_timeout.
  Duration timeout = Duration::zero();
  // Zero: WebhookOptions::max_attempts.
  int max_attempts = 0;
};

struct WebhookOptions {
  std::vector<WebhookTarget> targets;
  size_t queue_capacity = 10000;  // pending deliveries, all targets
  int max_attempts = 8;
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::minutes(5);
  double jitter = 0.2;  // +/- this share of each backoff
  Duration request_timeout = std::chrono::seconds(5);
  std::string region;  // envelope "region"; left out when empty
  uint64_t seed = 1;
};

struct WebhookStats {
  uint64_t enqueued = 0;
  uint64_t delivered = 0;
  uint64_t retries = 0;  // failed attempts that were retried
  uint64_t gave_up = 0;  // deliveries dropped after max_attempts
  uint64_t dropped = 0;  // dropped because the queue was full
  uint64_t pending = 0;
};

class WebhookDispatcher {
 public:
  // kInvalidArgument (via Validate) for a URL that is not http(s)://host.
  WebhookDispatcher(const Clock& clock, WebhookOptions options);
  ~WebhookDispatcher();  // Stop()s; pending deliveries are dropped
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Checks the options: every URL http(s)://host[:port][/path], attempts
  // and backoffs positive.
  static Status Validate(const WebhookOptions& options);
  static Status ValidateTargets(const std::vector<WebhookTarget>& targets);

  // Replaces the targets (kInvalidArgument, and no change, for a bad URL).
  Status SetTargets(std::vector<WebhookTarget> targets);
  // The signature header value for a body sent at `unix_seconds`.
  static std::string Signature(const std::string& secret,
                               const std::string& timestamp,
                               const std::string& body);

  // Starts the worker thread. Events enqueued before Start are kept.
  Status Start();
  void Stop();

  // For History::AddListener (register it on the loop thread).
  History::Listener MakeListener();
  // Enqueues deliveries of `e` for every target that wants it.
  void OnEvent(const HistoryEvent& e);

  WebhookStats stats() const;

  // Whether an event type is delivered at all.
  static bool IsNotifiable(const std::string& type);
  static nlohmann::json Envelope(const HistoryEvent& e,
                                 const std::string& region);

 private:
  using TargetPtr = std::shared_ptr<const WebhookTarget>;
  struct Delivery {
    TargetPtr target;
    std::shared_ptr<const std::string> body;
    uint64_t seq = 0;
    int attempts = 0;
    MonoTime next_at{};
  };
  struct Shared {
    // Set at construction, read-only afterwards.
    std::string region;
    size_t capacity = 0;

    std::mutex mu;
    std::vector<TargetPtr> targets;  // guarded by mu
    std::condition_variable cv;
    std::deque<Delivery> queue;  // guarded by mu, in enqueue order
    WebhookStats stats;          // guarded by mu
    bool stop = false;           // guarded by mu
  };

  static void Enqueue(Shared& s, const HistoryEvent& e);
  void Run();
  // POSTs one delivery; OK on a 2xx answer.
  Status Post(const WebhookTarget& target, const std::string& body);
  Duration Backoff(Duration initial, int attempts);
  int MaxAttempts(const WebhookTarget& t) const {
    return t.max_attempts > 0 ? t.max_attempts : options_.max_attempts;
  }

  const Clock& clock_;
  const WebhookOptions options_;
  std::shared_ptr<Shared> shared_;
  Rng rng_;  // worker thread only
  std::thread worker_;
};

}  // namespace lifeline
