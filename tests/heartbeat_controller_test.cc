// The real heartbeat pipeline wired into the real controller core, in
// simulated time: agents (a HeartbeatSender in host-agent mode, real wire
// codec and HMAC) send for every instance whose application the sim
// provider says is alive; datagrams reach a DatagramProcessor on the
// HeartbeatPipeline the daemon uses; the pipeline's Tick posts transitions
// to the controller loop through the same sink the daemon installs. Nothing
// here simulates the detector: silence is judged by FailureDetector.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/rng.h"
#include "core/sim_loop.h"
#include "heartbeat/datagram_processor.h"
#include "heartbeat/heartbeat_pipeline.h"
#include "heartbeat/sender.h"
#include "history/history.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {
namespace {

namespace hb = heartbeat;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr uint32_t kKeyId = 7;
const std::string kSecret(32, 'k');
constexpr Duration kInterval = milliseconds(100);
constexpr Duration kTick = milliseconds(5);

// What the daemon's observer does (src/daemon/heartbeat_observer.h): track
// every instance of a group that checks application health.
class Tracker final : public InstanceObserver {
 public:
  explicit Tracker(hb::HeartbeatPipeline& p) : pipeline_(p) {}
  void OnInstanceAdded(const InstanceRecord& rec,
                       const GroupSpec& spec) override {
    if (!spec.check_application) return;
    Status s = pipeline_.Track(rec.info.id, spec.name, spec.grace_period);
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kAlreadyExists)
        << s.ToString();
    ids.insert(rec.info.id);
  }
  void OnInstanceRemoved(const std::string& id) override {
    (void)pipeline_.Untrack(id);
    ids.erase(id);
  }
  std::set<std::string> ids;

 private:
  hb::HeartbeatPipeline& pipeline_;
};

class HeartbeatControllerTest : public ::testing::Test {
 protected:
  HeartbeatControllerTest()
      : loop_(clock_), provider_(loop_, 11, DefaultSimConfig()), rng_(5) {
    config_.safety.cold_start_grace = seconds(30);
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& e : history_.Query({})) {
      std::printf("  %s %-24s %-12s %s [%s]\n", FormatWallTime(e.at).c_str(),
                  e.type.c_str(), e.instance.c_str(), e.message.c_str(),
                  e.rule.c_str());
    }
  }

  static GroupSpec Web(int desired) {
    GroupSpec g;
    g.name = "web";
    g.desired = desired;
    g.min = 0;
    g.max = 30;
    g.zones = {"sim-1a", "sim-1b", "sim-1c"};
    g.launch.image = "img-1";
    g.launch.instance_type = "m5.large";
    g.grace_period = seconds(60);
    g.check_application = true;
    g.safety.actions_per_minute = 120;
    g.safety.burst = 20;
    return g;
  }

  void Boot(const GroupSpec& g, hb::DetectorConfig detector = {}) {
    controller_ = std::make_unique<Controller>(loop_, provider_, history_,
                                               config_, &journal_);
    hb::HeartbeatServiceConfig hc;
    hc.keys = {{kKeyId, "web", kSecret}};
    detector.expected_interval = kInterval;
    detector.tick = kTick;
    hc.detector = detector;
    hc.shards = 2;
    // The daemon's sink (src/daemon/daemon_wiring.cc), recording what
    // passes through it.
    hb::HeartbeatSink sink;
    Controller* c = controller_.get();
    sink.on_transition = [this, c](const AppHealthTransition& t) {
      delivered_.push_back(t);
      c->OnAppHealth(t);
    };
    sink.on_load = [c](const LoadReport& r) { c->OnLoadReport(r); };
    auto p = hb::HeartbeatPipeline::Create(hc, clock_, loop_, std::move(sink));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = std::move(p).value();
    processor_ = std::make_unique<hb::DatagramProcessor>(
        pipeline_->detector(), pipeline_->keys(), seconds(30), counters_);
    tracker_ = std::make_unique<Tracker>(*pipeline_);
    controller_->SetInstanceObserver(tracker_.get());

    hb::SenderOptions so;
    so.address = "127.0.0.1:9";  // never sent to: rounds are delivered here
    so.key_id = kKeyId;
    so.secret = kSecret;
    so.interval = kInterval;
    auto sender = hb::HeartbeatSender::Create(so, clock_);
    ASSERT_TRUE(sender.ok()) << sender.status().ToString();
    sender_ = std::move(sender).value();

    ASSERT_TRUE(controller_->ApplyGroup(g).ok());
    controller_->Start();
    loop_.RunAfter(kInterval, [this] { AgentRound(); });
    loop_.RunAfter(kTick, [this] { DetectorTick(); });
  }

  // One host-agent round: a heartbeat for every instance whose application
  // is alive, in as many datagrams as the sender needs, delivered after
  // 1..10 ms of network delay (unless the receiver is stalled).
  void AgentRound() {
    loop_.RunAfter(kInterval, [this] { AgentRound(); });
    std::vector<std::string> alive;
    for (const auto& id : tracker_->ids) {
      auto t = provider_.GroundTruth(id);
      if (t && t->app_alive()) alive.push_back(id);
    }
    std::vector<hb::HeartbeatEntry> entries(alive.size());
    for (size_t i = 0; i < alive.size(); ++i) {
      entries[i].instance_id = alive[i];
    }
    std::vector<std::vector<uint8_t>> datagrams;
    ASSERT_TRUE(sender_->BuildRound(entries, &datagrams).ok());
    for (auto& d : forged_) datagrams.push_back(d);
    for (auto& d : datagrams) {
      Duration delay = milliseconds(1 + static_cast<int>(rng_.Next() % 10));
      loop_.RunAfter(delay, [this, d = std::move(d)] {
        if (stalled_) return;  // lost while the daemon did not read
        processor_->Process(d, clock_.Now(), clock_.WallNow());
      });
    }
  }

  void DetectorTick() {
    loop_.RunAfter(kTick, [this] { DetectorTick(); });
    if (!stalled_) pipeline_->Tick(clock_.Now());
  }

  // The detector (receivers and ticker together, as under SIGSTOP of the
  // daemon) does not run for `d` while every application is fine; what was
  // sent meanwhile is lost.
  void StallDetector(Duration d) {
    stalled_ = true;
    loop_.RunFor(d);
    stalled_ = false;
    // The worst case on resumption: the ticker runs before any receiver has
    // read a datagram.
    pipeline_->Tick(clock_.Now());
  }

  void Run(Duration d) {
    loop_.RunFor(d);
    ASSERT_TRUE(controller_->CheckAccounting().ok())
        << controller_->CheckAccounting().ToString();
  }

  std::vector<std::string> ActiveIds() const {
    std::vector<std::string> out;
    for (const auto* r : controller_->GroupInstances("web")) {
      if (r->role == InstanceRole::kActive) out.push_back(r->info.id);
    }
    return out;
  }

  bool HasEvent(const std::string& type, const std::string& instance = "") {
    HistoryQuery q;
    q.type_prefix = type;
    if (!instance.empty()) q.instance = instance;
    return !history_.Query(q).empty();
  }

  // First transition of `id` to `h` delivered at or after `from`.
  std::optional<MonoTime> DeliveredAt(const std::string& id, AppHealth h,
                                      MonoTime from) const {
    for (const auto& t : delivered_) {
      if (t.instance_id == id && t.health == h && t.at >= from) return t.at;
    }
    return std::nullopt;
  }
  size_t CountDelivered(AppHealth h) const {
    size_t n = 0;
    for (const auto& t : delivered_) n += t.health == h;
    return n;
  }

  // Every active instance runs a live application that the controller and
  // the detector both see as healthy.
  void ExpectAllHealthy(int desired) {
    auto ids = ActiveIds();
    EXPECT_EQ(static_cast<int>(ids.size()), desired);
    for (const auto& id : ids) {
      auto t = provider_.GroundTruth(id);
      ASSERT_TRUE(t.has_value());
      EXPECT_TRUE(t->app_alive()) << id;
      const InstanceRecord* r = controller_->instance(id);
      EXPECT_FALSE(r->verdict.unhealthy) << id;
      EXPECT_EQ(r->app, AppHealth::kOk) << id;
      EXPECT_EQ(pipeline_->detector().health(id), AppHealth::kOk) << id;
    }
  }

  SimClock clock_;
  SimLoop loop_;
  SimProvider provider_;
  MemoryHistory history_;
  MemoryJournal journal_;
  ControllerConfig config_;
  Rng rng_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<hb::HeartbeatPipeline> pipeline_;
  hb::ReceiverCounters counters_;
  std::unique_ptr<hb::DatagramProcessor> processor_;
  std::unique_ptr<Tracker> tracker_;
  std::unique_ptr<hb::HeartbeatSender> sender_;
  std::vector<std::vector<uint8_t>> forged_;  // sent every round as well
  std::vector<AppHealthTransition> delivered_;
  bool stalled_ = false;
};

TEST_F(HeartbeatControllerTest, EveryInstanceBecomesHealthyFromItsHeartbeats) {
  Boot(Web(6));
  Run(minutes(3));
  EXPECT_EQ(tracker_->ids.size(), 6u);
  EXPECT_EQ(pipeline_->detector().tracked(), 6u);
  ExpectAllHealthy(6);
  EXPECT_EQ(CountDelivered(AppHealth::kFailed), 0u);
  EXPECT_GT(counters_.entries_accepted.load(), 6u * 1000);
  EXPECT_EQ(counters_.dropped[static_cast<size_t>(hb::DropReason::kBadMac)],
            0u);
}

TEST_F(HeartbeatControllerTest, HungApplicationIsDeclaredFailedAndRebooted) {
  GroupSpec g = Web(6);
  g.ladder.application = {{RecoveryAction::kReboot, 1, hours(1), minutes(2)},
                          {RecoveryAction::kReplace, 2, hours(1), minutes(10)}};
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[2];
  MonoTime hung_at = clock_.Now();
  ASSERT_TRUE(provider_.HangApplication(victim).ok());
  Run(minutes(5));
  // The detector, not a simulation of it, said so. Three minutes of
  // history is not enough to drop its cautious burst prior (it assumes a
  // loss burst goes on with probability 1/2 until it has seen otherwise),
  // so it takes ~25 intervals here; B5 measures ~3 after 40 minutes.
  auto failed = DeliveredAt(victim, AppHealth::kFailed, hung_at);
  ASSERT_TRUE(failed.has_value());
  EXPECT_GE(*failed - hung_at, 2 * kInterval);
  EXPECT_LE(*failed - hung_at, seconds(3));
  // Only this one instance, and only once it went silent.
  EXPECT_EQ(CountDelivered(AppHealth::kFailed), 1u);
  EXPECT_GE(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  // Back from the reboot, its heartbeats made it healthy again.
  EXPECT_TRUE(DeliveredAt(victim, AppHealth::kOk, *failed).has_value());
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 6u);
}

TEST_F(HeartbeatControllerTest, PermanentHangIsReplacedAndCapacityRestored) {
  GroupSpec g = Web(6);
  g.ladder.application = {{RecoveryAction::kReboot, 1, hours(1), minutes(2)},
                          {RecoveryAction::kReplace, 2, hours(1), minutes(10)}};
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[0];
  ASSERT_TRUE(provider_.HangApplication(victim).ok());
  // It hangs again every time it comes back: only a replacement helps.
  for (int i = 0; i < 20 * 60; ++i) {
    Run(seconds(1));
    auto t = provider_.GroundTruth(victim);
    if (t && t->lifecycle == Lifecycle::kRunning && !t->app_hung &&
        !t->host_failed) {
      ASSERT_TRUE(provider_.HangApplication(victim).ok());
    }
  }
  ASSERT_EQ(provider_.terminate_log().size(), 1u);
  EXPECT_EQ(provider_.terminate_log()[0].id, victim);
  EXPECT_TRUE(HasEvent("recovery.escalated", victim));
  // The replacement was tracked through the observer, sent heartbeats and
  // was promoted; the victim is no longer tracked.
  EXPECT_EQ(provider_.instances_created(), 7u);
  EXPECT_EQ(tracker_->ids.count(victim), 0u);
  EXPECT_EQ(pipeline_->detector().tracked(), 6u);
  ExpectAllHealthy(6);
}

TEST_F(HeartbeatControllerTest, ForgedHeartbeatsDoNotKeepADeadInstanceAlive) {
  // Six instances: with fewer, heartbeat silence lacks the agreement of
  // enough healthy peers and the governor defers the reboot.
  GroupSpec g = Web(6);
  g.ladder.application = {{RecoveryAction::kReboot, 1, hours(1), minutes(2)}};
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[1];
  // Someone on the network sends heartbeats for the victim under a key it
  // guessed wrong, with ever higher sequence numbers.
  hb::HeartbeatEntry e;
  e.instance_id = victim;
  e.seq = ~0ull >> 1;
  e.sent_at_us = hb::ToWireMicros(clock_.WallNow());
  std::vector<uint8_t> d;
  ASSERT_EQ(hb::EncodeUnsigned(kKeyId, std::span(&e, 1), &d),
            hb::DropReason::kNone);
  auto wrong = hb::HmacSha256::Create(std::string(32, 'x'));
  ASSERT_TRUE(wrong.ok());
  uint8_t tag[hb::kTagBytes];
  ASSERT_TRUE((*wrong)->Tag(d, tag));
  d.insert(d.end(), tag, tag + hb::kTagBytes);
  forged_.push_back(d);
  MonoTime hung_at = clock_.Now();
  ASSERT_TRUE(provider_.HangApplication(victim).ok());
  Run(minutes(3));
  EXPECT_TRUE(DeliveredAt(victim, AppHealth::kFailed, hung_at).has_value());
  EXPECT_GE(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_GT(counters_.dropped[static_cast<size_t>(hb::DropReason::kBadMac)],
            1000u);
}

TEST_F(HeartbeatControllerTest, DetectorStallCondemnsNobody) {
  Boot(Web(6));
  Run(minutes(3));
  StallDetector(seconds(5));
  Run(minutes(2));
  EXPECT_EQ(CountDelivered(AppHealth::kFailed), 0u);
  EXPECT_EQ(CountDelivered(AppHealth::kSuspect), 0u);
  EXPECT_GE(pipeline_->detector().stalls_detected(), 1u);
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(provider_.terminate_log().empty());
  ExpectAllHealthy(6);
}

// The same stall with the detector's stall awareness turned off: every
// instance is condemned, which is what the previous test guards against.
TEST_F(HeartbeatControllerTest, WithoutStallAwarenessTheSameStallCondemnsAll) {
  hb::DetectorConfig d;
  d.stall_threshold = Duration::zero();
  Boot(Web(6), d);
  Run(minutes(3));
  StallDetector(seconds(5));
  loop_.RunFor(milliseconds(50));
  EXPECT_EQ(CountDelivered(AppHealth::kFailed), 6u);
  EXPECT_EQ(pipeline_->detector().stalls_detected(), 0u);
}

}  // namespace
}  // namespace lifeline
