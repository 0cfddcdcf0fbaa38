// Ec2Client: one EC2 Query API call at a time, asynchronously, with the
// retries EC2 asks of its callers.
//
// Call() encodes the query, hands it to the transport (off the loop
// thread), and delivers the parsed response -- or a Status -- on the
// EventLoop. Throttling and server-side errors are retried with capped
// exponential backoff and jitter (timers on the loop; nothing sleeps);
// *.NotFound is retried while CallOptions::retry_not_found_until lies ahead
// (eventual consistency just after a launch). Every error message names the
// call, the AWS error code and the request id:
//   ec2: TerminateInstances(i-0abc): RequestLimitExceeded (request
//   7a62c49f): Request limit exceeded. [4 attempts]
//
// Thread-safety: loop thread only. Callbacks run on the loop thread and
// never inside Call(). Destroying the client drops callbacks not yet run.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/rng.h"
#include "providers/ec2/query.h"
#include "providers/ec2/retry.h"
#include "providers/ec2/transport.h"
#include "providers/ec2/xml.h"

namespace lifeline::ec2 {

struct CallOptions {
  // False when repeating a request that may have executed is harmful
  // (CreateSnapshot): then only throttled requests, which EC2 refused
  // outright, are repeated.
  bool idempotent = true;
  // Repeat *.NotFound errors until then (default: never).
  MonoTime retry_not_found_until{};
  // Repeat this extra error code until retry_code_until (e.g.
  // IncorrectInstanceState while a fresh instance is still pending).
  std::string retry_code;
  MonoTime retry_code_until{};
};

// Details of the last failure, for callers that branch on the AWS code.
struct CallError {
  std::string code;  // AWS error code; "" for transport failures
  std::string message;
  std::string request_id;
};

class Ec2Client {
 public:
  using Done = std::function<void(Result<Ec2Response>)>;
  // on_error, if set, receives the AWS error details before done gets the
  // Status (same turn of the loop).
  using OnError = std::function<void(const CallError&)>;

  // loop must outlive the client.
  Ec2Client(EventLoop& loop, std::unique_ptr<Ec2Transport> transport,
            RetryPolicy policy, std::string api_version, uint64_t jitter_seed);
  ~Ec2Client();
  Ec2Client(const Ec2Client&) = delete;
  Ec2Client& operator=(const Ec2Client&) = delete;

  // label names the call in messages: "TerminateInstances(i-0abc)".
  void Call(Ec2Query query, std::string label, CallOptions options, Done done,
            OnError on_error = nullptr);

  // Repeats the call with each NextToken until the last page, handing each
  // page to on_page; done(OK) after the last page, or the first error.
  using OnPage = std::function<void(const Ec2Response&)>;
  void CallPaged(Ec2Query query, std::string label, CallOptions options,
                 OnPage on_page, std::function<void(Status)> done,
                 OnError on_error = nullptr);

  EventLoop& loop() { return loop_; }
  const RetryPolicy& policy() const { return policy_; }
  // HTTP requests handed to the transport so far (retries included).
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  struct Pending;
  void Send(std::shared_ptr<Pending> p);
  void OnResponse(std::shared_ptr<Pending> p, Result<HttpResponse> r);
  void Fail(std::shared_ptr<Pending> p, StatusCode code, const CallError& error,
            bool throttled);

  EventLoop& loop_;
  const RetryPolicy policy_;
  const std::string api_version_;
  Rng rng_;
  uint64_t requests_sent_ = 0;
  // Callbacks posted from worker threads hold a weak_ptr to this and drop
  // themselves once the client is gone.
  std::shared_ptr<Ec2Client*> self_;
  // Declared last: destroyed first, joining the worker threads while the
  // members above still exist.
  std::unique_ptr<Ec2Transport> transport_;
};

}  // namespace lifeline::ec2
