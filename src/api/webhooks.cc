#include "api/webhooks.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "api/problem.h"
#include "api/views.h"

namespace lifeline {

using nlohmann::json;

namespace {

constexpr const char* kNotifiable[] = {
    "instance.unhealthy", "recovery.started",    "recovery.succeeded",
    "recovery.failed",    "safety.deferred",     "safety.panic.",
    "safety.partition.",  "zonal_shift.started", "zonal_shift.ended",
    "autoshift.",
};

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// "recovery.started" -> "Lifeline Recovery Started".
std::string DetailType(const std::string& type) {
  std::string out = "Lifeline";
  bool word_start = true;
  for (char c : type) {
    if (c == '.' || c == '_') {
      word_start = true;
      continue;
    }
    if (word_start) {
      out += ' ';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      word_start = false;
    } else {
      out += c;
    }
  }
  return out;
}

// Splits "http://host:port/path" into ("http://host:port", "/path").
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  size_t host_start = scheme_end + 3;
  size_t slash = url.find('/', host_start);
  *origin = url.substr(0, slash);
  *path = slash == std::string::npos ? "/" : url.substr(slash);
  return origin->size() > host_start;
}

}  // namespace

bool WebhookDispatcher::IsNotifiable(const std::string& type) {
  for (const char* t : kNotifiable) {
    std::string p = t;
    if (p.back() == '.' ? StartsWith(type, p) : type == p) return true;
  }
  return false;
}

json WebhookDispatcher::Envelope(const HistoryEvent& e,
                                 const std::string& region) {
  json detail = EventView(e);
  detail.erase("time");
  json j = {{"version", "0"},
            {"id", "lifeline-" + std::to_string(e.seq)},
            {"detail-type", DetailType(e.type)},
            {"source", "lifeline"},
            {"time", FormatWallTime(e.at)},
            {"resources",
             e.instance.empty() ? json::array() : json::array({e.instance})},
            {"detail", detail}};
  if (!region.empty()) j["region"] = region;
  return j;
}

Status WebhookDispatcher::ValidateTargets(
    const std::vector<WebhookTarget>& targets) {
  for (size_t i = 0; i < targets.size(); ++i) {
    std::string origin, path;
    if (!SplitUrl(targets[i].url, &origin, &path)) {
      return InvalidArgument("webhooks.targets[" + std::to_string(i) +
                             "].url: \"" + targets[i].url +
                             "\" is not http(s)://host[:port][/path]");
    }
    if (targets[i].max_attempts < 0 || targets[i].timeout < Duration::zero()) {
      return InvalidArgument("webhooks.targets[" + std::to_string(i) +
                             "]: max_attempts and timeout must not be "
                             "negative");
    }
  }
  return Status::Ok();
}

std::string WebhookDispatcher::Signature(const std::string& secret,
                                         const std::string& timestamp,
                                         const std::string& body) {
  std::string msg = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac,
       &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

Status WebhookDispatcher::SetTargets(std::vector<WebhookTarget> targets) {
  LIFELINE_RETURN_IF_ERROR(ValidateTargets(targets));
  std::vector<TargetPtr> next;
  for (auto& t : targets) {
    next.push_back(std::make_shared<const WebhookTarget>(std::move(t)));
  }
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->targets = std::move(next);
  return Status::Ok();
}

Status WebhookDispatcher::Validate(const WebhookOptions& o) {
  LIFELINE_RETURN_IF_ERROR(ValidateTargets(o.targets));
  if (o.max_attempts < 1) {
    return InvalidArgument("webhooks.max_attempts: must be at least 1");
  }
  if (o.initial_backoff <= Duration::zero() ||
      o.max_backoff < o.initial_backoff) {
    return InvalidArgument(
        "webhooks: initial_backoff must be positive and at most max_backoff");
  }
  if (o.queue_capacity == 0) {
    return InvalidArgument("webhooks.queue_capacity: must be positive");
  }
  return Status::Ok();
}

WebhookDispatcher::WebhookDispatcher(const Clock& clock, WebhookOptions options)
    : clock_(clock),
      options_(std::move(options)),
      shared_(std::make_shared<Shared>()),
      rng_(options_.seed) {
  for (const auto& t : options_.targets) {
    shared_->targets.push_back(std::make_shared<const WebhookTarget>(t));
  }
  shared_->region = options_.region;
  shared_->capacity = std::max<size_t>(1, options_.queue_capacity);
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

Status WebhookDispatcher::Start() {
  LIFELINE_RETURN_IF_ERROR(Validate(options_));
  if (worker_.joinable())
    return FailedPrecondition("webhooks: already started");
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = false;
  }
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
  }
  shared_->cv.notify_all();
  if (worker_.joinable()) worker_.join();
}

History::Listener WebhookDispatcher::MakeListener() {
  std::weak_ptr<Shared> weak = shared_;
  return [weak](const HistoryEvent& e) {
    if (auto s = weak.lock()) Enqueue(*s, e);
  };
}

void WebhookDispatcher::OnEvent(const HistoryEvent& e) { Enqueue(*shared_, e); }

void WebhookDispatcher::Enqueue(Shared& s, const HistoryEvent& e) {
  if (!IsNotifiable(e.type)) return;
  std::vector<TargetPtr> targets;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    targets = s.targets;
  }
  std::shared_ptr<const std::string> body;
  bool added = false;
  for (const TargetPtr& t : targets) {
    const auto& types = t->types;
    bool wanted = types.empty();
    for (const auto& p : types) wanted = wanted || StartsWith(e.type, p);
    if (!wanted) continue;
    if (!body) {
      body =
          std::make_shared<const std::string>(DumpJson(Envelope(e, s.region)));
    }
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.queue.size() >= s.capacity) {
      s.queue.pop_front();
      ++s.stats.dropped;
    }
    Delivery d;
    d.target = t;
    d.body = body;
    d.seq = e.seq;
    s.queue.push_back(std::move(d));
    ++s.stats.enqueued;
    added = true;
  }
  if (added) s.cv.notify_one();
}

WebhookStats WebhookDispatcher::stats() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  WebhookStats st = shared_->stats;
  st.pending = shared_->queue.size();
  return st;
}

Duration WebhookDispatcher::Backoff(Duration initial, int attempts) {
  double d = static_cast<double>(initial.count());
  for (int i = 1; i < attempts; ++i) d *= 2;
  d = std::min(d, static_cast<double>(options_.max_backoff.count()));
  double spread = options_.jitter * (2 * rng_.Uniform() - 1);
  return Duration(static_cast<int64_t>(d * (1 + spread)));
}

Status WebhookDispatcher::Post(const WebhookTarget& target,
                               const std::string& body) {
  std::string origin, path;
  if (!SplitUrl(target.url, &origin, &path)) {
    return InvalidArgument("webhook url " + target.url);
  }
  httplib::Client client(origin);
  auto secs = std::chrono::duration_cast<std::chrono::microseconds>(
      target.timeout > Duration::zero() ? target.timeout
                                        : options_.request_timeout);
  client.set_connection_timeout(secs);
  client.set_read_timeout(secs);
  client.set_write_timeout(secs);
  httplib::Headers headers;
  for (const auto& [k, v] : target.headers) headers.emplace(k, v);
  if (!target.signing_secret.empty()) {
    auto unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                      clock_.WallNow().time_since_epoch())
                      .count();
    std::string ts = std::to_string(unix_s);
    headers.emplace("X-Lifeline-Timestamp", ts);
    headers.emplace("X-Lifeline-Signature",
                    Signature(target.signing_secret, ts, body));
  }
  auto res = client.Post(path.c_str(), headers, body, "application/json");
  if (!res) {
    return Unavailable("webhook " + target.url + ": " +
                       httplib::to_string(res.error()));
  }
  if (res->status < 200 || res->status >= 300) {
    return Unavailable("webhook " + target.url + ": HTTP " +
                       std::to_string(res->status));
  }
  return Status::Ok();
}

void WebhookDispatcher::Run() {
  Shared& s = *shared_;
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.stop) {
    if (s.queue.empty()) {
      s.cv.wait(lock, [&] { return s.stop || !s.queue.empty(); });
      continue;
    }
    // The oldest delivery that is due; else wait for the earliest one.
    MonoTime now = clock_.Now();
    auto due = s.queue.end();
    MonoTime earliest = MonoTime::max();
    for (auto it = s.queue.begin(); it != s.queue.end(); ++it) {
      if (it->next_at <= now) {
        due = it;
        break;
      }
      earliest = std::min(earliest, it->next_at);
    }
    if (due == s.queue.end()) {
      s.cv.wait_for(lock, earliest - now);
      continue;
    }
    Delivery d = std::move(*due);
    s.queue.erase(due);
    lock.unlock();
    Status st = Post(*d.target, *d.body);
    ++d.attempts;
    Duration backoff = st.ok() ? Duration::zero()
                               : Backoff(options_.initial_backoff, d.attempts);
    MonoTime after = clock_.Now();
    lock.lock();
    if (st.ok()) {
      ++s.stats.delivered;
    } else if (d.attempts >= MaxAttempts(*d.target)) {
      ++s.stats.gave_up;
    } else {
      ++s.stats.retries;
      d.next_at = after + backoff;
      if (s.queue.size() >= s.capacity) {
        ++s.stats.dropped;
      } else {
        s.queue.push_back(std::move(d));
      }
    }
  }
}

}  // namespace lifeline
