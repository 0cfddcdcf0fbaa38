#include "providers/ec2/client.h"

namespace lifeline::ec2 {

struct Ec2Client::Pending {
  Ec2Query query;
  std::string label;
  CallOptions options;
  Done done;
  OnError on_error;
  std::string body;
  int attempt = 0;
};

Ec2Client::Ec2Client(EventLoop& loop, std::unique_ptr<Ec2Transport> transport,
                     RetryPolicy policy, std::string api_version,
                     uint64_t jitter_seed)
    : loop_(loop),
      policy_(policy),
      api_version_(std::move(api_version)),
      rng_(jitter_seed),
      self_(std::make_shared<Ec2Client*>(this)),
      transport_(std::move(transport)) {}

Ec2Client::~Ec2Client() { self_.reset(); }

void Ec2Client::Call(Ec2Query query, std::string label, CallOptions options,
                     Done done, OnError on_error) {
  auto p = std::make_shared<Pending>(Pending{std::move(query),
                                             std::move(label),
                                             std::move(options),
                                             std::move(done),
                                             std::move(on_error),
                                             {},
                                             0});
  p->body = p->query.Body(api_version_);
  Send(std::move(p));
}

void Ec2Client::Send(std::shared_ptr<Pending> p) {
  ++p->attempt;
  ++requests_sent_;
  std::weak_ptr<Ec2Client*> weak = self_;
  EventLoop* loop = &loop_;
  std::string body = p->body;
  // done runs once, on a worker thread: it hands its only reference to
  // the call's state over to the loop, so that state is never destroyed
  // off the loop thread.
  transport_->Send(std::move(body), [weak, loop, p = std::move(p)](
                                        Result<HttpResponse> r) mutable {
    loop->Post([weak, p = std::move(p), r = std::move(r)]() mutable {
      auto self = weak.lock();
      if (self) (*self)->OnResponse(std::move(p), std::move(r));
    });
  });
}

void Ec2Client::OnResponse(std::shared_ptr<Pending> p, Result<HttpResponse> r) {
  if (!r.ok()) {
    CallError err{"", r.status().message(), ""};
    Fail(std::move(p), r.status().code(), err, false);
    return;
  }
  const HttpResponse& http = r.value();
  Result<Ec2Response> doc = ParseDocument(http.body);
  if (http.status >= 200 && http.status < 300) {
    if (!doc.ok()) {
      CallError err{
          "",
          "HTTP " + std::to_string(http.status) + ": " + doc.status().message(),
          http.amz_request_id};
      Fail(std::move(p), StatusCode::kInternal, err, false);
      return;
    }
    if (doc->request_id.empty()) doc->request_id = http.amz_request_id;
    p->done(std::move(doc).value());
    return;
  }
  CallError err;
  Ec2Error e;
  if (doc.ok() && ParseError(doc->root(), &e)) {
    err = CallError{e.code, e.message, e.request_id};
  } else {
    err.message =
        "HTTP " + std::to_string(http.status) + ": " + http.body.substr(0, 200);
  }
  if (err.request_id.empty()) err.request_id = http.amz_request_id;
  StatusCode mapped = MapErrorCode(err.code, http.status);
  Fail(std::move(p), mapped, err, IsThrottling(err.code));
}

void Ec2Client::Fail(std::shared_ptr<Pending> p, StatusCode code,
                     const CallError& error, bool throttled) {
  const MonoTime now = loop_.Now();
  RetryKind kind = ClassifyForRetry(error.code, code);
  bool retry = false;
  if (p->attempt < policy_.max_attempts) {
    retry = kind == RetryKind::kThrottled ||
            (kind == RetryKind::kTransient && p->options.idempotent);
  }
  // Eventual consistency: bounded by time rather than attempts.
  if (IsNotFound(error.code) && now < p->options.retry_not_found_until) {
    retry = true;
  }
  if (!p->options.retry_code.empty() && error.code == p->options.retry_code &&
      now < p->options.retry_code_until) {
    retry = true;
  }
  if (retry) {
    Duration delay = BackoffDelay(policy_, p->attempt, rng_);
    std::weak_ptr<Ec2Client*> weak = self_;
    loop_.RunAfter(delay, [weak, p]() mutable {
      auto self = weak.lock();
      if (self) (*self)->Send(std::move(p));
    });
    return;
  }
  std::string msg = "ec2: " + p->label + ": ";
  if (!error.code.empty()) {
    msg += error.code + " (request " +
           (error.request_id.empty() ? "unknown" : error.request_id) + "): ";
  }
  msg += error.message;
  if (p->attempt > 1) msg += " [" + std::to_string(p->attempt) + " attempts]";
  Status status(code, std::move(msg));
  if (throttled) {
    status.set_retry_after(std::chrono::duration_cast<milliseconds>(
        BackoffDelay(policy_, p->attempt, rng_)));
  }
  if (p->on_error) p->on_error(error);
  p->done(std::move(status));
}

void Ec2Client::CallPaged(Ec2Query query, std::string label,
                          CallOptions options, OnPage on_page,
                          std::function<void(Status)> done, OnError on_error) {
  struct Paging {
    Ec2Query query;
    std::string label;
    CallOptions options;
    OnPage on_page;
    std::function<void(Status)> done;
    OnError on_error;
    std::string last_token;
    std::function<void()> next;
  };
  auto s = std::make_shared<Paging>(Paging{std::move(query),
                                           std::move(label),
                                           std::move(options),
                                           std::move(on_page),
                                           std::move(done),
                                           std::move(on_error),
                                           {},
                                           {}});
  std::weak_ptr<Paging> ws = s;
  s->next = [this, ws] {
    auto s = ws.lock();
    if (!s) return;
    Call(
        s->query, s->label, s->options,
        [s](Result<Ec2Response> r) {
          if (!r.ok()) {
            auto done = std::move(s->done);
            done(r.status());
            return;
          }
          s->on_page(r.value());
          std::string token = NextToken(r->root());
          if (token.empty() || token == s->last_token) {
            auto done = std::move(s->done);
            done(token.empty()
                     ? Status::Ok()
                     : Internal("ec2: " + s->label +
                                ": the same NextToken came back twice"));
            return;
          }
          s->last_token = token;
          s->query.Replace("NextToken", token);
          s->next();
        },
        s->on_error);
  };
  s->next();
}

}  // namespace lifeline::ec2
