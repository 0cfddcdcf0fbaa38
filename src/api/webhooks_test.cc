// Webhook delivery against a local cpp-httplib receiver on loopback.
#include "api/webhooks.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "api/api_test_util.h"

namespace lifeline {
namespace {

using nlohmann::json;

// A receiver answering `fail_first` requests with 500, then 200.
class Receiver {
 public:
  explicit Receiver(int fail_first = 0) : fail_first_(fail_first) {
    server_.Post(
        "/hook", [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard<std::mutex> lock(mu_);
          ++requests_;
          if (requests_ <= fail_first_) {
            res.status = 500;
            return;
          }
          bodies_.push_back(json::parse(req.body));
          auth_ = req.get_header_value("Authorization");
          raw_.push_back(req.body);
          signatures_.push_back({req.get_header_value("X-Lifeline-Timestamp"),
                                 req.get_header_value("X-Lifeline-Signature")});
          res.status = 204;
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<json> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::string auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }
  std::vector<std::string> raw() {
    std::lock_guard<std::mutex> lock(mu_);
    return raw_;
  }
  // (timestamp, signature) per accepted request.
  std::vector<std::pair<std::string, std::string>> signatures() {
    std::lock_guard<std::mutex> lock(mu_);
    return signatures_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  int fail_first_;
  int requests_ = 0;
  std::vector<json> bodies_;
  std::string auth_;
  std::vector<std::string> raw_;
  std::vector<std::pair<std::string, std::string>> signatures_;
};

HistoryEvent Event(uint64_t seq, std::string type, std::string instance = "") {
  HistoryEvent e;
  e.seq = seq;
  e.type = std::move(type);
  e.kind = EventKind::kDecision;
  e.group = "web";
  e.zone = "sim-1a";
  e.instance = std::move(instance);
  e.message = "m";
  e.rule = "r";
  e.evidence = {{"workflow", "wf-1"}};
  return e;
}

WebhookTarget Target(std::string url, std::vector<std::string> types = {},
                     std::map<std::string, std::string> headers = {}) {
  WebhookTarget t;
  t.url = std::move(url);
  t.types = std::move(types);
  t.headers = std::move(headers);
  return t;
}

WebhookOptions Fast(const std::string& url) {
  WebhookOptions o;
  o.targets = {Target(url, {}, {{"Authorization", "Bearer hook"}})};
  o.initial_backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(20);
  o.max_attempts = 4;
  o.request_timeout = std::chrono::seconds(2);
  o.region = "local-1";
  return o;
}

TEST(Webhooks, DeliversNotableEventsInAnEventBridgeEnvelope) {
  Receiver rx;
  RealClock clock;
  WebhookDispatcher d(clock, Fast(rx.url()));
  ASSERT_TRUE(d.Start().ok());
  auto listener = d.MakeListener();
  listener(Event(1, "group.created"));  // not notable
  listener(Event(2, "recovery.started", "sim-000001"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 1; }));
  auto bodies = rx.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  const json& b = bodies[0];
  EXPECT_EQ(b["version"], "0");
  EXPECT_EQ(b["id"], "lifeline-2");
  EXPECT_EQ(b["detail-type"], "Lifeline Recovery Started");
  EXPECT_EQ(b["source"], "lifeline");
  EXPECT_EQ(b["region"], "local-1");
  EXPECT_EQ(b["resources"], json::array({"sim-000001"}));
  EXPECT_EQ(b["detail"]["type"], "recovery.started");
  EXPECT_EQ(b["detail"]["evidence"]["workflow"], "wf-1");
  EXPECT_TRUE(b.contains("time"));
  EXPECT_EQ(rx.auth(), "Bearer hook");
  EXPECT_EQ(d.stats().enqueued, 1u);
}

TEST(Webhooks, RetriesAfterServerErrorsWithBackoff) {
  Receiver rx(/*fail_first=*/2);
  RealClock clock;
  WebhookDispatcher d(clock, Fast(rx.url()));
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "instance.unhealthy", "i-1"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 1; }));
  EXPECT_EQ(rx.requests(), 3);
  EXPECT_EQ(d.stats().retries, 2u);
  EXPECT_EQ(d.stats().gave_up, 0u);
}

TEST(Webhooks, GivesUpAfterMaxAttempts) {
  Receiver rx(/*fail_first=*/1000);
  RealClock clock;
  WebhookDispatcher d(clock, Fast(rx.url()));
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "safety.panic.entered"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().gave_up == 1; }));
  EXPECT_EQ(rx.requests(), 4);
  EXPECT_EQ(d.stats().delivered, 0u);
  EXPECT_EQ(d.stats().pending, 0u);
}

TEST(Webhooks, UnreachableReceiverIsRetriedAndGivenUp) {
  RealClock clock;
  WebhookOptions o = Fast("http://127.0.0.1:1/hook");
  o.max_attempts = 2;
  WebhookDispatcher d(clock, o);
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "recovery.failed"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().gave_up == 1; }));
  EXPECT_EQ(d.stats().retries, 1u);
}

TEST(Webhooks, TargetsFilterByTypePrefix) {
  Receiver all, recovery_only;
  RealClock clock;
  WebhookOptions o = Fast(all.url());
  o.targets.push_back(Target(recovery_only.url(), {"recovery."}));
  WebhookDispatcher d(clock, o);
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "safety.deferred", "i-1"));
  d.OnEvent(Event(2, "recovery.succeeded", "i-1"));
  d.OnEvent(Event(3, "zonal_shift.started"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 4; }));
  EXPECT_EQ(all.bodies().size(), 3u);
  ASSERT_EQ(recovery_only.bodies().size(), 1u);
  EXPECT_EQ(recovery_only.bodies()[0]["detail"]["type"], "recovery.succeeded");
}

TEST(Webhooks, AFullQueueDropsTheOldestAndCountsIt) {
  Receiver rx;
  RealClock clock;
  WebhookOptions o = Fast(rx.url());
  o.queue_capacity = 2;
  WebhookDispatcher d(clock, o);
  // Not started yet: nothing drains the queue.
  for (uint64_t s = 1; s <= 5; ++s) d.OnEvent(Event(s, "recovery.started"));
  EXPECT_EQ(d.stats().dropped, 3u);
  EXPECT_EQ(d.stats().pending, 2u);
  ASSERT_TRUE(d.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 2; }));
  auto bodies = rx.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0]["id"], "lifeline-4");
  EXPECT_EQ(bodies[1]["id"], "lifeline-5");
}

TEST(Webhooks, TheListenerOutlivesTheDispatcherSafely) {
  RealClock clock;
  History::Listener l;
  {
    WebhookDispatcher d(clock, Fast("http://127.0.0.1:1/hook"));
    l = d.MakeListener();
  }
  l(Event(1, "recovery.started"));  // no effect, no crash
}

TEST(Webhooks, SignsEachRequestWithHmacSha256) {
  Receiver rx;
  RealClock clock;
  WebhookOptions o = Fast(rx.url());
  o.targets[0].signing_secret = "k3y";
  WebhookDispatcher d(clock, o);
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "recovery.started", "i-1"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 1; }));
  auto sig = rx.signatures().at(0);
  std::string raw = rx.raw().at(0);
  EXPECT_FALSE(sig.first.empty());
  EXPECT_EQ(sig.second, WebhookDispatcher::Signature("k3y", sig.first, raw));
  EXPECT_NE(sig.second, WebhookDispatcher::Signature("other", sig.first, raw));
  // Computed independently (Python: hmac.new(b"key", b"The quick brown
  // fox.jumps over the lazy dog", hashlib.sha256).hexdigest()).
  EXPECT_EQ(WebhookDispatcher::Signature("key", "The quick brown fox",
                                         "jumps over the lazy dog"),
            "sha256=" + std::string("7298ee2f6d3ff5ba40ec8e176b806219"
                                    "5f823018ad39fe74a8727a101007702a"));
}

TEST(Webhooks, PerTargetAttemptsAndNewTargetsAfterSetTargets) {
  Receiver failing(/*fail_first=*/1000), good;
  RealClock clock;
  WebhookOptions o = Fast(failing.url());
  o.targets[0].max_attempts = 2;  // the options say 4
  WebhookDispatcher d(clock, o);
  ASSERT_TRUE(d.Start().ok());
  d.OnEvent(Event(1, "recovery.failed"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().gave_up == 1; }));
  EXPECT_EQ(failing.requests(), 2);
  EXPECT_FALSE(d.SetTargets({Target("nope://x")}).ok());
  ASSERT_TRUE(d.SetTargets({Target(good.url())}).ok());
  d.OnEvent(Event(2, "recovery.started"));
  ASSERT_TRUE(WaitUntil([&] { return d.stats().delivered == 1; }));
  EXPECT_EQ(good.bodies().size(), 1u);
  EXPECT_EQ(failing.requests(), 2);
}

TEST(Webhooks, ValidatesTargets) {
  WebhookOptions o;
  o.targets = {Target("ftp://x/y")};
  EXPECT_FALSE(WebhookDispatcher::Validate(o).ok());
  o.targets = {Target("https://example.com")};
  EXPECT_TRUE(WebhookDispatcher::Validate(o).ok());
  EXPECT_TRUE(WebhookDispatcher::IsNotifiable("safety.partition.entered"));
  EXPECT_TRUE(WebhookDispatcher::IsNotifiable("zonal_shift.ended"));
  EXPECT_FALSE(WebhookDispatcher::IsNotifiable("zonal_shift.updated"));
  EXPECT_FALSE(WebhookDispatcher::IsNotifiable("recovery.approved"));
}

}  // namespace
}  // namespace lifeline
