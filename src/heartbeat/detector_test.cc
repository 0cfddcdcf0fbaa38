#include "heartbeat/detector.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"

namespace lifeline::heartbeat {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kH = milliseconds(100);

// A fleet of senders in simulated time: each instance sends every kH from
// its own phase; a datagram is lost with the loss model's probability and
// otherwise arrives after a uniform delay in [0, max_jitter]. Time moves in
// `step` increments; the detector is advanced after every step.
class Fleet {
 public:
  Fleet(const DetectorConfig& cfg, int n, uint64_t seed)
      : clock_(), det_(cfg, clock_.Now()), rng_(seed) {
    for (int i = 0; i < n; ++i) Add();
  }
  // A new instance, tracked now, sending from a random phase; its index.
  size_t Add() {
    ids_.push_back("i-" + std::to_string(ids_.size()));
    EXPECT_TRUE(det_.Track(ids_.back(), 0, clock_.Now()).ok());
    next_send_.push_back(clock_.Now() + rng_.UniformDuration(Duration(0), kH));
    seq_.push_back(1000);
    base_.push_back(0);
    alive_.push_back(true);
    bad_.push_back(false);
    return ids_.size() - 1;
  }
  // Instance i is replaced (the ladder's restart): the old one is
  // untracked and a new one, with a new id and sequence, tracked now.
  void Replace(size_t i) {
    EXPECT_TRUE(det_.Untrack(ids_[i]).ok());
    ids_[i] = "i-" + std::to_string(i) + "." + std::to_string(++replaced);
    EXPECT_TRUE(det_.Track(ids_[i], 0, clock_.Now()).ok());
    seq_[i] += 1'000'000;
    base_[i] = seq_[i];
    last_arrival_.erase(i);
  }
  void RunFor(Duration d, Duration step = milliseconds(2)) {
    MonoTime end = clock_.Now() + d;
    while (clock_.Now() < end) {
      MonoTime now = clock_.Now() + step;
      for (size_t i = 0; i < ids_.size(); ++i) {
        while (next_send_[i] <= now) {
          uint64_t seq = ++seq_[i];
          if (alive_[i] && !Lost(i)) {
            MonoTime at =
                next_send_[i] + rng_.UniformDuration(Duration(0), jitter);
            in_flight_.emplace(at, std::make_pair(i, seq));
          }
          last_sent_[i] = next_send_[i];
          next_send_[i] += kH;
        }
      }
      while (!in_flight_.empty() && in_flight_.begin()->first <= now) {
        auto [at, what] = *in_flight_.begin();
        in_flight_.erase(in_flight_.begin());
        if (!deliver) continue;
        if (what.second <= base_[what.first]) continue;  // sent before Replace
        last_arrival_[what.first] = at;
        det_.Heartbeat(ids_[what.first], what.second, at, &out_, AppStatus::kOk,
                       stated_interval);
      }
      clock_.AdvanceTo(now);
      if (advance) det_.AdvanceTo(now, &out_);
      Collect();
    }
  }
  bool Lost(size_t i) {
    if (burst_enter > 0) {  // Gilbert-Elliott: bad state loses everything
      bad_[i] =
          bad_[i] ? !rng_.Bernoulli(burst_exit) : rng_.Bernoulli(burst_enter);
      if (bad_[i]) return true;
    }
    return rng_.Bernoulli(loss);
  }
  void Collect() {
    for (auto& t : out_.transitions) transitions.push_back(t);
    for (auto& l : out_.loads) loads.push_back(l);
    out_.clear();
  }
  int Count(AppHealth h) const {
    int n = 0;
    for (auto& t : transitions) n += t.health == h;
    return n;
  }

  double loss = 0;
  double burst_enter = 0, burst_exit = 1;
  int replaced = 0;
  Duration stated_interval{0};  // in every entry (Lifeline's senders do)
  Duration jitter{0};
  bool deliver = true;  // false: arrivals are dropped (kernel overflow)
  bool advance = true;  // false: the detector is stalled
  std::vector<AppHealthTransition> transitions;
  std::vector<LoadReport> loads;
  std::vector<std::string> ids_;
  std::vector<bool> alive_;
  std::map<size_t, MonoTime> last_arrival_, last_sent_;
  SimClock clock_;
  FailureDetector det_;

 private:
  Rng rng_;
  std::vector<MonoTime> next_send_;
  std::vector<uint64_t> seq_, base_;
  std::vector<bool> bad_;
  std::multimap<MonoTime, std::pair<size_t, uint64_t>> in_flight_;
  DetectorOutput out_;
};

TEST(FailureDetector, DeclaresASilentInstanceFailedWithinThreeIntervals) {
  DetectorConfig cfg;
  Fleet f(cfg, 20, 1);
  f.RunFor(std::chrono::minutes(40), milliseconds(5));  // learns: no loss
  EXPECT_EQ(f.Count(AppHealth::kOk), 20);
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  for (size_t i = 0; i < 20; ++i) f.alive_[i] = false;
  MonoTime stop = f.clock_.Now();
  f.RunFor(seconds(2), milliseconds(1));
  ASSERT_EQ(f.Count(AppHealth::kFailed), 20);
  ASSERT_EQ(f.Count(AppHealth::kSuspect), 20);
  for (const auto& t : f.transitions) {
    if (t.health != AppHealth::kFailed) continue;
    size_t i = std::stoul(t.instance_id.substr(2));
    Duration since_last = t.at - f.last_arrival_[i];
    EXPECT_LE(since_last, 3 * kH + milliseconds(5)) << t.instance_id;
    EXPECT_GE(since_last, 2 * kH) << t.instance_id;
    EXPECT_GT(t.at, stop);
    EXPECT_GE(t.phi, cfg.phi_failed);
    EXPECT_NE(t.reason.find("no heartbeat for"), std::string::npos) << t.reason;
  }
}

TEST(FailureDetector, NoFalseFailuresUnderFivePercentLossAndJitter) {
  DetectorConfig cfg;
  Fleet f(cfg, 40, 2);
  f.loss = 0.05;
  f.jitter = milliseconds(40);                       // 20 +- 20 ms
  f.RunFor(std::chrono::hours(3), milliseconds(5));  // 120 instance-hours
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  // It still detects: a silent instance is failed within a couple of seconds.
  f.alive_[0] = false;
  f.RunFor(seconds(5), milliseconds(1));
  EXPECT_EQ(f.det_.liveness("i-0"), Liveness::kFailed);
  EXPECT_EQ(f.Count(AppHealth::kFailed), 1);
}

TEST(FailureDetector, BurstyLossWidensTheWindowInsteadOfFailing) {
  DetectorConfig cfg;
  Fleet f(cfg, 40, 3);
  f.burst_enter = 0.01;  // ~1 % of heartbeats start a burst
  f.burst_exit = 0.4;    // bursts of 2.5 heartbeats on average
  f.loss = 0.01;
  f.jitter = milliseconds(40);
  f.RunFor(std::chrono::hours(2), milliseconds(5));
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  for (auto& t : f.transitions) {
    if (t.health == AppHealth::kFailed) {
      ADD_FAILURE() << t.instance_id << " at "
                    << ToSeconds(t.at.time_since_epoch()) << " " << t.reason;
    }
  }
}

// Young instances: a new instance's prior is its group's record. In a group
// that has shown no loss for 3 minutes (20 instances, 36 k heartbeats), an
// instance 10 s old and one 1 s old are failed two heartbeats and the
// 10 ms margin after their last heartbeat, like the group's old instances:
// within 2h + 10 ms + one 1 ms tick (B5/B6 target: 3h + 5 ms).
TEST(FailureDetector, YoungInstanceOfACleanGroupIsFailedWithinThreeIntervals) {
  DetectorConfig cfg;
  Fleet f(cfg, 20, 6);
  f.stated_interval = kH;
  f.RunFor(std::chrono::minutes(3), milliseconds(5));
  size_t ten = f.Add();
  f.RunFor(seconds(9), milliseconds(5));
  size_t one = f.Add();
  f.RunFor(seconds(1), milliseconds(1));
  ASSERT_EQ(f.det_.liveness(f.ids_[ten]), Liveness::kAlive);
  ASSERT_EQ(f.det_.liveness(f.ids_[one]), Liveness::kAlive);
  f.alive_[ten] = false;
  f.alive_[one] = false;
  f.RunFor(seconds(1), milliseconds(1));
  EXPECT_EQ(f.Count(AppHealth::kFailed), 2);
  for (size_t i : {ten, one}) {
    EXPECT_EQ(f.det_.liveness(f.ids_[i]), Liveness::kFailed) << f.ids_[i];
    for (const auto& t : f.transitions) {
      if (t.instance_id != f.ids_[i] || t.health != AppHealth::kFailed)
        continue;
      Duration since_last = t.at - f.last_arrival_[i];
      EXPECT_LE(since_last, 2 * kH + milliseconds(11)) << t.instance_id;
      EXPECT_GE(since_last, 2 * kH) << t.instance_id;
    }
  }
}

// With no group history (the group's first instance, in a new detector) an
// instance keeps the cautious fixed prior: 10 s old (100 clean heartbeats)
// it is failed after ~27 missed heartbeats, 2-3 s of silence, not sooner.
TEST(FailureDetector, YoungInstanceWithoutGroupHistoryKeepsTheCautiousPrior) {
  DetectorConfig cfg;
  Fleet f(cfg, 1, 7);
  f.RunFor(seconds(10), milliseconds(1));
  f.alive_[0] = false;
  f.RunFor(seconds(5), milliseconds(1));
  ASSERT_EQ(f.Count(AppHealth::kFailed), 1);
  for (const auto& t : f.transitions) {
    if (t.health != AppHealth::kFailed) continue;
    Duration since_last = t.at - f.last_arrival_[0];
    EXPECT_GE(since_last, seconds(2));
    EXPECT_LE(since_last, seconds(3));
  }
}

// An instance that does not state its interval is not judged by its
// group's record until 64 heartbeats have taught the interval: one sending
// every 1 s (10 x expected_interval) into a clean group is not failed
// between its first heartbeats, and once learned it is still detected.
TEST(FailureDetector, YoungInstanceWithAnUnstatedIntervalIsNotFailedEarly) {
  DetectorConfig cfg;
  Fleet f(cfg, 20, 10);
  f.stated_interval = kH;
  f.RunFor(std::chrono::minutes(3), milliseconds(5));
  ASSERT_TRUE(f.det_.Track("slow", 0, f.clock_.Now()).ok());
  DetectorOutput out;
  for (uint64_t seq = 1; seq <= 90; ++seq) {
    f.RunFor(seconds(1), milliseconds(5));
    EXPECT_EQ(f.det_.Heartbeat("slow", seq, f.clock_.Now(), &out),
              DropReason::kNone);
  }
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  EXPECT_EQ(f.det_.liveness("slow"), Liveness::kAlive);
  f.RunFor(seconds(10), milliseconds(5));
  EXPECT_EQ(f.det_.liveness("slow"), Liveness::kFailed);
}

// A young instance of a bursty group inherits the group's caution: a
// 1.5 s burst 10 s into its life does not fail it.
TEST(FailureDetector, YoungInstanceOfABurstyGroupSurvivesItsFirstLongBurst) {
  DetectorConfig cfg;
  Fleet f(cfg, 20, 8);
  f.stated_interval = kH;
  f.burst_enter = 0.01;
  f.burst_exit = 0.4;
  f.loss = 0.01;
  f.jitter = milliseconds(40);
  f.RunFor(std::chrono::minutes(10), milliseconds(5));
  size_t young = f.Add();
  f.RunFor(seconds(10), milliseconds(5));
  f.alive_[young] = false;  // 15 heartbeats lost in a row
  f.RunFor(milliseconds(1500), milliseconds(5));
  f.alive_[young] = true;
  f.RunFor(seconds(10), milliseconds(5));
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  EXPECT_EQ(f.det_.liveness(f.ids_[young]), Liveness::kAlive);
}

// Under 5 % loss and 20 +- 20 ms jitter, instances replaced every minute
// (2,400 young lives over 40 instance-hours, none older than 60 s) are
// never failed; a young one that goes silent still is.
TEST(FailureDetector, YoungInstancesUnderFivePercentLossAreNeverFailed) {
  DetectorConfig cfg;
  Fleet f(cfg, 40, 9);
  f.stated_interval = kH;
  f.loss = 0.05;
  f.jitter = milliseconds(40);
  for (int k = 0; k < 2400; ++k) {
    f.RunFor(milliseconds(1500), milliseconds(5));
    f.Replace(static_cast<size_t>(k % 40));
  }
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  for (auto& t : f.transitions) {
    if (t.health == AppHealth::kFailed) ADD_FAILURE() << t.reason;
  }
  f.alive_[5] = false;  // replaced 51 s ago
  f.RunFor(seconds(10), milliseconds(1));
  EXPECT_EQ(f.det_.liveness(f.ids_[5]), Liveness::kFailed);
  EXPECT_EQ(f.Count(AppHealth::kFailed), 1);
}

TEST(FailureDetector, OwnStallExtendsDeadlinesInsteadOfDeclaringFailures) {
  DetectorConfig cfg;
  Fleet f(cfg, 50, 4);
  f.RunFor(std::chrono::minutes(10), milliseconds(5));
  ASSERT_EQ(f.Count(AppHealth::kFailed), 0);
  // The detector stops for 5 s and the kernel drops what arrives meanwhile.
  f.advance = false;
  f.deliver = false;
  f.alive_[7] = false;  // one instance really dies during the stall
  f.RunFor(seconds(5), milliseconds(5));
  f.advance = true;
  f.deliver = true;
  f.RunFor(milliseconds(5), milliseconds(5));  // first turn after the stall
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
  EXPECT_EQ(f.Count(AppHealth::kSuspect), 0);
  EXPECT_GE(f.det_.stalls_detected(), 1u);
  f.RunFor(seconds(3), milliseconds(1));
  EXPECT_EQ(f.Count(AppHealth::kFailed), 1);  // only the dead one
  EXPECT_EQ(f.det_.liveness("i-7"), Liveness::kFailed);
}

TEST(FailureDetector, QueuedHeartbeatsAfterAStallKeepEveryoneAlive) {
  DetectorConfig cfg;
  Fleet f(cfg, 50, 5);
  f.RunFor(std::chrono::minutes(10), milliseconds(5));
  f.advance = false;  // stalled, but the kernel queues the datagrams
  f.RunFor(seconds(30), milliseconds(5));
  f.advance = true;
  f.RunFor(seconds(2), milliseconds(5));
  EXPECT_EQ(f.Count(AppHealth::kFailed), 0);
}

TEST(FailureDetector, GraceBeforeTheFirstHeartbeat) {
  SimClock clock;
  DetectorConfig cfg;
  FailureDetector d(cfg, clock.Now());
  DetectorOutput out;
  ASSERT_TRUE(d.Track("never", 0, clock.Now(), seconds(2)).ok());
  ASSERT_TRUE(d.Track("late", 0, clock.Now(), seconds(2)).ok());
  EXPECT_EQ(d.Track("late", 0, clock.Now()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(d.Track("bad id", 0, clock.Now()).code(),
            StatusCode::kInvalidArgument);
  for (int ms = 1; ms <= 1900; ++ms) {
    clock.Advance(milliseconds(1));
    d.AdvanceTo(clock.Now(), &out);
  }
  EXPECT_TRUE(out.transitions.empty());
  EXPECT_EQ(d.Heartbeat("late", 1, clock.Now(), &out), DropReason::kNone);
  for (int ms = 1; ms <= 200; ++ms) {
    clock.Advance(milliseconds(1));
    d.AdvanceTo(clock.Now(), &out);
  }
  ASSERT_EQ(out.transitions.size(), 2u);
  EXPECT_EQ(out.transitions[0].instance_id, "late");
  EXPECT_EQ(out.transitions[0].health, AppHealth::kOk);
  EXPECT_EQ(out.transitions[1].instance_id, "never");
  EXPECT_EQ(out.transitions[1].health, AppHealth::kFailed);
  EXPECT_NE(out.transitions[1].reason.find("grace"), std::string::npos);
}

TEST(FailureDetector, ReportsAppStatusAndRecoveryAsTransitions) {
  SimClock clock;
  DetectorConfig cfg;
  FailureDetector d(cfg, clock.Now());
  DetectorOutput out;
  ASSERT_TRUE(d.Track("app", 0, clock.Now()).ok());
  uint64_t seq = 0;
  auto beat_for = [&](Duration span, AppStatus st) {
    for (MonoTime end = clock.Now() + span; clock.Now() < end;) {
      clock.Advance(milliseconds(1));
      if ((clock.Now().time_since_epoch() / milliseconds(1)) % 100 == 0) {
        d.Heartbeat("app", ++seq, clock.Now(), &out, st);
      }
      d.AdvanceTo(clock.Now(), &out);
    }
  };
  beat_for(seconds(1), AppStatus::kOk);
  beat_for(seconds(1), AppStatus::kDegraded);
  beat_for(seconds(1), AppStatus::kFailing);
  beat_for(seconds(1), AppStatus::kOk);
  std::vector<AppHealth> seen;
  for (auto& t : out.transitions) seen.push_back(t.health);
  EXPECT_EQ(seen, (std::vector<AppHealth>{AppHealth::kOk, AppHealth::kDegraded,
                                          AppHealth::kFailed, AppHealth::kOk}));
  // A failure the instance reports itself is the agent's signal, not the
  // observer's silence (the governor's agreement rule tells them apart).
  ASSERT_EQ(out.transitions.size(), 4u);
  EXPECT_EQ(out.transitions[2].source, "agent");
  EXPECT_EQ(out.transitions[3].source, "heartbeat");
  out.clear();
  for (int ms = 0; ms < 3000; ++ms) {  // silence: suspect, then failed
    clock.Advance(milliseconds(1));
    d.AdvanceTo(clock.Now(), &out);
  }
  beat_for(milliseconds(200), AppStatus::kOk);
  seen.clear();
  for (auto& t : out.transitions) seen.push_back(t.health);
  EXPECT_EQ(seen, (std::vector<AppHealth>{AppHealth::kSuspect,
                                          AppHealth::kFailed, AppHealth::kOk}));
  EXPECT_EQ(out.transitions[1].source, "heartbeat");  // silence
  EXPECT_NE(out.transitions.back().reason.find("recovered"), std::string::npos);
}

TEST(FailureDetector, RefusesReplaysAndOtherGroupsWithoutChangingState) {
  SimClock clock;
  FailureDetector d(DetectorConfig{}, clock.Now());
  DetectorOutput out;
  ASSERT_TRUE(d.Track("a", 3, clock.Now()).ok());
  HeartbeatEntry e;
  e.instance_id = "a";
  e.seq = 10;
  uint32_t i = d.Find("a");
  EXPECT_EQ(d.Observe(i, e, 4, clock.Now(), &out), DropReason::kWrongGroup);
  EXPECT_EQ(d.liveness("a"), Liveness::kUnknown);
  EXPECT_EQ(d.Observe(i, e, 3, clock.Now(), &out), DropReason::kNone);
  EXPECT_EQ(d.Observe(i, e, 3, clock.Now(), &out), DropReason::kReplayed);
  e.seq = 9;
  e.status = AppStatus::kFailing;
  EXPECT_EQ(d.Observe(i, e, 3, clock.Now(), &out), DropReason::kReplayed);
  EXPECT_EQ(d.health("a"), AppHealth::kOk);
  EXPECT_EQ(d.Heartbeat("zzz", 1, clock.Now(), &out),
            DropReason::kUnknownInstance);
}

TEST(FailureDetector, LoadSignalsAreAggregatedAndRateLimited) {
  SimClock clock;
  DetectorConfig cfg;
  cfg.load_report_interval = seconds(10);
  FailureDetector d(cfg, clock.Now());
  DetectorOutput out;
  ASSERT_TRUE(d.Track("a", 0, clock.Now()).ok());
  HeartbeatEntry e;
  e.instance_id = "a";
  e.has_error_ratio = true;
  e.has_latency = true;
  for (int k = 1; k <= 300; ++k) {  // 30 s of heartbeats
    clock.Advance(kH);
    e.seq = static_cast<uint64_t>(k);
    e.error_ratio_bp = k == 150 ? 5000 : 100;
    e.latency_us = 2000;
    d.Observe(d.Find("a"), e, 0, clock.Now(), &out);
    for (int ms = 0; ms < 2; ++ms)
      d.AdvanceTo(clock.Now() + milliseconds(ms), &out);
  }
  ASSERT_GE(out.loads.size(), 2u);
  ASSERT_LE(out.loads.size(), 4u);
  double worst = 0;
  for (auto& l : out.loads) {
    EXPECT_EQ(l.instance_id, "a");
    EXPECT_DOUBLE_EQ(l.latency_ms, 2.0);
    worst = std::max(worst, l.error_ratio);
  }
  EXPECT_DOUBLE_EQ(worst, 0.5);
}

TEST(FailureDetector, UntrackedInstancesAreForgotten) {
  SimClock clock;
  FailureDetector d(DetectorConfig{}, clock.Now());
  DetectorOutput out;
  ASSERT_TRUE(d.Track("a", 0, clock.Now(), seconds(1)).ok());
  ASSERT_TRUE(d.Untrack("a").ok());
  EXPECT_EQ(d.Untrack("a").code(), StatusCode::kNotFound);
  for (int ms = 0; ms < 2000; ++ms) {
    clock.Advance(milliseconds(1));
    d.AdvanceTo(clock.Now(), &out);
  }
  EXPECT_TRUE(out.transitions.empty());
  EXPECT_EQ(d.tracked(), 0u);
}

}  // namespace
}  // namespace lifeline::heartbeat
