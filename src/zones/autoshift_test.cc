// The zone-impairment detector: pure comparisons and transitions, and
// whole-group scenarios against the simulated cloud.
#include "zones/autoshift.h"

#include <gtest/gtest.h>

#include "zones/zone_fleet_test_util.h"
#include "zones/zone_scenarios.h"

namespace lifeline {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

ZoneSignals Zone(int n, int silent, double error, double latency) {
  ZoneSignals z;
  z.instances = n;
  z.silent = silent;
  z.failed = silent;
  z.reporting = n - silent;
  z.error_ratio = error;
  z.latency_ms = latency;
  return z;
}

TEST(AssessZones, OneSilentZoneIsTheOutlier) {
  AutoshiftConfig c;
  auto a = AssessZones({{"a", Zone(4, 4, 0, 0)},
                        {"b", Zone(4, 0, 0, 20)},
                        {"c", Zone(4, 0, 0, 20)}},
                       c);
  EXPECT_EQ(a.outlier, "a");
  EXPECT_EQ(a.signal, "silence");
}

TEST(AssessZones, ErrorsMustStandOutAgainstTheOthers) {
  AutoshiftConfig c;
  auto a = AssessZones({{"a", Zone(4, 0, 0.05, 20)},
                        {"b", Zone(4, 0, 0.001, 20)},
                        {"c", Zone(4, 0, 0.0, 20)}},
                       c);
  EXPECT_EQ(a.outlier, "a");
  EXPECT_EQ(a.signal, "error_ratio");
  // Two impaired zones: no outlier, one zone at a time.
  a = AssessZones({{"a", Zone(4, 0, 0.05, 20)},
                   {"b", Zone(4, 0, 0.04, 20)},
                   {"c", Zone(4, 0, 0.0, 20)}},
                  c);
  EXPECT_EQ(a.outlier, "");
  EXPECT_FALSE(a.all_impaired());
  a = AssessZones({{"a", Zone(4, 4, 0, 0)},
                   {"b", Zone(4, 4, 0, 0)},
                   {"c", Zone(4, 3, 0, 20)}},
                  c);
  EXPECT_EQ(a.outlier, "");
  EXPECT_TRUE(a.all_impaired());
}

TEST(AssessZones, LatencyOutlierNeedsFactorAndDelta) {
  AutoshiftConfig c;
  EXPECT_EQ(AssessZones({{"a", Zone(4, 0, 0, 500)},
                         {"b", Zone(4, 0, 0, 20)},
                         {"c", Zone(4, 0, 0, 22)}},
                        c)
                .outlier,
            "a");
  EXPECT_EQ(AssessZones({{"a", Zone(4, 0, 0, 50)},
                         {"b", Zone(4, 0, 0, 20)},
                         {"c", Zone(4, 0, 0, 22)}},
                        c)
                .outlier,
            "");  // 2.3x but only 29ms slower
  // A zone alone cannot be compared with anything.
  EXPECT_EQ(AssessZones({{"a", Zone(4, 4, 0, 0)}, {"b", Zone(0, 0, 0, 0)}}, c)
                .outlier,
            "");
}

TEST(NextAutoshift, StartsAfterSustainAndEndsAfterHoldDown) {
  AutoshiftConfig c;
  MonoTime t0{};
  std::map<std::string, ZoneSignals> bad = {{"a", Zone(4, 4, 0, 0)},
                                            {"b", Zone(4, 0, 0, 20)},
                                            {"c", Zone(4, 0, 0, 20)}};
  std::map<std::string, ZoneSignals> good = {{"a", Zone(4, 0, 0, 20)},
                                             {"b", Zone(4, 0, 0, 20)},
                                             {"c", Zone(4, 0, 0, 20)}};
  AutoshiftGroupState s;
  auto step = NextAutoshift(s, bad, false, t0, c);
  EXPECT_EQ(step.next.phase, AutoshiftPhase::kSuspected);
  EXPECT_EQ(step.action, AutoshiftAction::kNone);
  step = NextAutoshift(step.next, bad, false, t0 + milliseconds(499), c);
  EXPECT_EQ(step.action, AutoshiftAction::kNone);
  step = NextAutoshift(step.next, bad, false, t0 + milliseconds(500), c);
  EXPECT_EQ(step.action, AutoshiftAction::kStartShift);
  // A blip: back to normal before the sustain resets the candidate.
  auto blip = NextAutoshift(step.next, good, false, t0 + seconds(1), c);
  EXPECT_EQ(blip.next.phase, AutoshiftPhase::kWatching);

  s = step.next;
  s.phase = AutoshiftPhase::kShifted;
  s.shift_id = "zs-000001";
  step = NextAutoshift(s, good, true, t0 + seconds(10), c);
  EXPECT_EQ(step.next.phase, AutoshiftPhase::kRecovering);
  step = NextAutoshift(step.next, good, true, t0 + seconds(10) + minutes(4), c);
  EXPECT_EQ(step.action, AutoshiftAction::kNone);
  // Impaired again during the hold-down: back to shifted.
  auto relapse = NextAutoshift(step.next, bad, true, t0 + minutes(5), c);
  EXPECT_EQ(relapse.next.phase, AutoshiftPhase::kShifted);
  step = NextAutoshift(step.next, good, true, t0 + seconds(10) + minutes(5), c);
  EXPECT_EQ(step.action, AutoshiftAction::kEndShift);
}

TEST(NextAutoshift, AShiftThatExpiredWhileImpairedBlocksTheZone) {
  AutoshiftConfig c;
  std::map<std::string, ZoneSignals> bad = {{"a", Zone(4, 4, 0, 0)},
                                            {"b", Zone(4, 0, 0, 20)},
                                            {"c", Zone(4, 0, 0, 20)}};
  AutoshiftGroupState s;
  s.phase = AutoshiftPhase::kShifted;
  s.zone = "a";
  s.shift_id = "zs-000001";
  auto step = NextAutoshift(s, bad, /*shift_active=*/false, MonoTime{}, c);
  EXPECT_EQ(step.next.phase, AutoshiftPhase::kWatching);
  EXPECT_EQ(step.next.blocked_zone, "a");
  step = NextAutoshift(step.next, bad, false, MonoTime{} + hours(1), c);
  EXPECT_EQ(step.next.phase, AutoshiftPhase::kWatching);
  EXPECT_EQ(step.action, AutoshiftAction::kNone);
}

class AutoshiftTest : public ZoneFleetTest {
 protected:
  void BootAutoshift(GroupSpec g, AutoshiftConfig c = {}) {
    g.autoshift.enabled = true;
    Boot(g);
    detector_ = std::make_unique<AutoshiftDetector>(*controller_, *shifts_, c);
    detector_->Start();
    Run(minutes(3));
  }
  void TearDown() override {
    detector_.reset();
    ZoneFleetTest::TearDown();
  }
  std::unique_ptr<AutoshiftDetector> detector_;
};

TEST_F(AutoshiftTest, GrayFailureInOneZoneShiftsAwayAndBackAfterRecovery) {
  BootAutoshift(Web(9));
  SimDegradation d;
  d.error_ratio = 0.05;
  d.latency_ms = 400;
  d.launch_failure_rate = 0;
  MonoTime degraded = loop_.Now();
  ASSERT_TRUE(provider_.DegradeZone("sim-1b", d).ok());
  Run(minutes(2));
  auto started = Events("autoshift.started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].zone, "sim-1b");
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1b"});
  const ZonalShift* s = shifts_->ActiveShift("web");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->source, ZonalShiftSource::kAutoshift);
  bool has_signal = false;
  for (const auto& [k, v] : started[0].evidence) {
    if (k == "signal") has_signal = v == "error_ratio";
  }
  EXPECT_TRUE(has_signal);
  // Sustained for load_sustain (30s) before the decision, not much later.
  Duration took = std::chrono::duration_cast<Duration>(
      started[0].at - (clock_.WallNow() - (loop_.Now() - degraded)));
  EXPECT_GE(took, seconds(30));
  EXPECT_LE(took, seconds(40));
  // Gray: nothing looked unhealthy, nothing was destroyed.
  EXPECT_TRUE(provider_.terminate_log().empty());

  std::string id = s->id;
  ASSERT_TRUE(provider_.HealZone("sim-1b").ok());
  Run(minutes(4));
  EXPECT_EQ(shifts_->Get(id)->state, ZonalShiftState::kActive);  // hold-down
  Run(minutes(3));
  EXPECT_EQ(shifts_->Get(id)->state, ZonalShiftState::kCanceled);
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  auto ended = Events("autoshift.ended");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].kind, EventKind::kDecision);
  EXPECT_EQ(Events("autoshift.started").size(), 1u);
}

TEST_F(AutoshiftTest, NoShiftWhenEveryZoneDegradesTogether) {
  BootAutoshift(Web(9));
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) {
    ASSERT_TRUE(provider_.DegradeZone(z, SimDegradation{}).ok());
  }
  Run(minutes(10));
  EXPECT_TRUE(Events("zonal_shift.started").empty());
  auto suppressed = Events("autoshift.suppressed");
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0].kind, EventKind::kAlert);
}

TEST_F(AutoshiftTest, OneSilentZoneIsShiftedWithinASecondAndNothingDestroyed) {
  BootAutoshift(Web(12));
  heartbeats_->PartitionZone("sim-1c");
  Run(seconds(2));
  auto started = Events("autoshift.started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].zone, "sim-1c");
  Run(minutes(5));
  EXPECT_TRUE(provider_.terminate_log().empty());
  heartbeats_->HealPartition("sim-1c");
  Run(minutes(6));
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  EXPECT_EQ(Events("autoshift.ended").size(), 1u);
}

TEST_F(AutoshiftTest, EverythingSilentIsLifelinesOwnViewAndShiftsNothing) {
  BootAutoshift(Web(12));
  heartbeats_->PartitionZone("");
  Run(minutes(5));
  EXPECT_TRUE(Events("zonal_shift.started").empty());
  EXPECT_FALSE(Events("autoshift.suppressed").empty());
  EXPECT_TRUE(provider_.terminate_log().empty());
}

TEST_F(AutoshiftTest, OnlyGroupsThatOptIn) {
  Boot(Web(9));
  detector_ = std::make_unique<AutoshiftDetector>(*controller_, *shifts_,
                                                  AutoshiftConfig{});
  detector_->Start();
  Run(minutes(3));
  ASSERT_TRUE(provider_.DegradeZone("sim-1a", SimDegradation{}).ok());
  Run(minutes(5));
  EXPECT_TRUE(Events("zonal_shift.started").empty());
}

TEST_F(AutoshiftTest, AManualShiftOutranksAutoshift) {
  BootAutoshift(Web(9));
  ZonalShiftRequest r;
  r.group = "web";
  r.away_from = "sim-1a";
  r.expires_in = hours(1);
  ASSERT_TRUE(shifts_->Start(r).ok());
  ASSERT_TRUE(provider_.DegradeZone("sim-1b", SimDegradation{}).ok());
  Run(minutes(3));
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1a"});
  auto refused = Events("autoshift.refused");
  ASSERT_EQ(refused.size(), 1u);  // once per candidate, not every tick
  EXPECT_NE(refused[0].message.find("does not override"), std::string::npos)
      << refused[0].message;
}

TEST_F(AutoshiftTest, DurationIsBoundedAndAStillImpairedZoneIsNotReshifted) {
  GroupSpec g = Web(9);
  g.autoshift.max_duration = minutes(10);
  BootAutoshift(g);
  ASSERT_TRUE(provider_.DegradeZone("sim-1a", SimDegradation{}).ok());
  Run(minutes(1));
  ASSERT_EQ(Events("autoshift.started").size(), 1u);
  Run(minutes(20));
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  auto ended = Events("autoshift.ended");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].kind, EventKind::kAlert);
  EXPECT_EQ(Events("autoshift.started").size(), 1u);
  // Once it looked normal, it may be shifted again.
  ASSERT_TRUE(provider_.HealZone("sim-1a").ok());
  Run(minutes(1));
  ASSERT_TRUE(provider_.DegradeZone("sim-1a", SimDegradation{}).ok());
  Run(minutes(1));
  EXPECT_EQ(Events("autoshift.started").size(), 2u);
}

TEST(ZoneSilenceScenario, ShiftDecidedWithinASecondOfDetection) {
  ZoneSilenceOptions o;
  auto r = RunZoneSilence(o, 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->shifted);
  EXPECT_EQ(r->shifted_zone, "sim-1a");
  EXPECT_GT(r->detection_to_shift, Duration::zero());
  EXPECT_LE(r->detection_to_shift, seconds(1));
  EXPECT_EQ(r->healthy_terminated, 0);
  o.zone = "";
  r = RunZoneSilence(o, 5);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->shifted);
  EXPECT_EQ(r->healthy_terminated, 0);
}

}  // namespace
}  // namespace lifeline
