// Practice runs: scheduled, bounded shifts with a recorded outcome.
#include "zones/practice_run.h"

#include <gtest/gtest.h>

#include "zones/zone_fleet_test_util.h"

namespace lifeline {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class PracticeRunTest : public ZoneFleetTest {
 protected:
  void BootRunner(GroupSpec g) {
    Boot(g);
    runner_ = std::make_unique<PracticeRunner>(*controller_, *shifts_);
    Run(minutes(2));
  }
  void TearDown() override {
    runner_.reset();
    ZoneFleetTest::TearDown();
  }
  PracticeRunRequest Practice(Duration in, Duration duration) {
    PracticeRunRequest r;
    r.group = "web";
    r.zone = "sim-1a";
    r.start_at =
        clock_.WallNow() + std::chrono::duration_cast<WallTime::duration>(in);
    r.duration = duration;
    r.actor = "api:alice";
    return r;
  }
  std::unique_ptr<PracticeRunner> runner_;
};

TEST_F(PracticeRunTest, RunsAtItsTimeAndSucceedsWhenHealthHolds) {
  BootRunner(Web(9));
  auto run = runner_->Schedule(Practice(minutes(1), minutes(10)));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->state, PracticeRunState::kScheduled);
  Run(seconds(59));
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  Run(seconds(2));
  EXPECT_EQ(runner_->Get(run->id)->state, PracticeRunState::kRunning);
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1a"});
  EXPECT_EQ(shifts_->ActiveShift("web")->source,
            ZonalShiftSource::kPracticeRun);
  Run(minutes(11));
  auto done = runner_->Get(run->id);
  EXPECT_EQ(done->state, PracticeRunState::kSucceeded) << done->outcome;
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  ASSERT_EQ(Events("practice_run.succeeded").size(), 1u);
  EXPECT_EQ(Events("practice_run.succeeded")[0].kind, EventKind::kDecision);
}

TEST_F(PracticeRunTest, AbortsWhenTheGroupsHealthDegrades) {
  BootRunner(Web(9));
  auto run = runner_->Schedule(Practice(Duration::zero(), minutes(30)));
  ASSERT_TRUE(run.ok());
  Run(seconds(10));
  ASSERT_EQ(runner_->Get(run->id)->state, PracticeRunState::kRunning);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(provider_.CrashInstance(ActiveIn("sim-1b")[i]).ok());
  }
  Run(seconds(5));
  auto done = runner_->Get(run->id);
  EXPECT_EQ(done->state, PracticeRunState::kAborted);
  EXPECT_NE(done->outcome.find("2 of 9 active instances"), std::string::npos)
      << done->outcome;
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  EXPECT_EQ(shifts_->Get(done->shift_id)->state, ZonalShiftState::kCanceled);
  auto aborted = Events("practice_run.aborted");
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_EQ(aborted[0].kind, EventKind::kAlert);
}

TEST_F(PracticeRunTest, DoesNotStartOverAnotherShiftOrAnUnhealthyGroup) {
  BootRunner(Web(9));
  ZonalShiftRequest manual;
  manual.group = "web";
  manual.away_from = "sim-1b";
  auto m = shifts_->Start(manual);
  ASSERT_TRUE(m.ok());
  auto run = runner_->Schedule(Practice(Duration::zero(), minutes(5)));
  ASSERT_TRUE(run.ok());
  Run(seconds(1));
  auto done = runner_->Get(run->id);
  EXPECT_EQ(done->state, PracticeRunState::kNotStarted);
  EXPECT_NE(done->outcome.find(m->id), std::string::npos) << done->outcome;
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1b"});

  ASSERT_TRUE(shifts_->Cancel(m->id, "api").ok());
  ASSERT_TRUE(provider_.CrashInstance(ActiveIn("sim-1c")[0]).ok());
  ASSERT_TRUE(provider_.CrashInstance(ActiveIn("sim-1c")[1]).ok());
  run = runner_->Schedule(Practice(Duration::zero(), minutes(5)));
  Run(seconds(1));
  EXPECT_EQ(runner_->Get(run->id)->state, PracticeRunState::kNotStarted);
}

TEST_F(PracticeRunTest, ASupersedingShiftEndsTheRunAsAborted) {
  BootRunner(Web(9));
  auto run = runner_->Schedule(Practice(Duration::zero(), minutes(30)));
  Run(seconds(5));
  ZonalShiftRequest manual;
  manual.group = "web";
  manual.away_from = "sim-1c";
  ASSERT_TRUE(shifts_->Start(manual).ok());
  Run(seconds(2));
  auto done = runner_->Get(run->id);
  EXPECT_EQ(done->state, PracticeRunState::kAborted);
  EXPECT_NE(done->outcome.find("superseded by manual"), std::string::npos)
      << done->outcome;
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1c"});
}

TEST_F(PracticeRunTest, CancelAndValidation) {
  BootRunner(Web(9));
  auto later = runner_->Schedule(Practice(hours(1), minutes(30)));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(runner_->Cancel(later->id, "api:bob")->state,
            PracticeRunState::kCanceled);
  EXPECT_EQ(runner_->Cancel(later->id, "api:bob").status().code(),
            StatusCode::kFailedPrecondition);
  Run(hours(2));
  EXPECT_TRUE(Events("zonal_shift.started").empty());

  auto now = runner_->Schedule(Practice(Duration::zero(), minutes(30)));
  Run(seconds(3));
  ASSERT_EQ(runner_->Get(now->id)->state, PracticeRunState::kRunning);
  EXPECT_EQ(runner_->Cancel(now->id, "api:bob")->state,
            PracticeRunState::kCanceled);
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());

  PracticeRunRequest bad = Practice(Duration::zero(), hours(5));
  EXPECT_EQ(runner_->Schedule(bad).status().code(),
            StatusCode::kInvalidArgument);
  bad = Practice(Duration::zero(), minutes(5));
  bad.zone = "sim-9z";
  EXPECT_EQ(runner_->Schedule(bad).status().code(),
            StatusCode::kInvalidArgument);
  bad.group = "nope";
  EXPECT_EQ(runner_->Schedule(bad).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(runner_->List("web").size(), 2u);
  EXPECT_EQ(runner_->List()[0].id, now->id);
}

}  // namespace
}  // namespace lifeline
