// Zonal shifts against the controller and the simulated cloud.
#include "zones/zonal_shift.h"

#include <gtest/gtest.h>

#include "zones/zone_fleet_test_util.h"

namespace lifeline {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class ZonalShiftTest : public ZoneFleetTest {
 protected:
  ZonalShiftRequest Away(const std::string& zone, Duration d = minutes(30)) {
    ZonalShiftRequest r;
    r.group = "web";
    r.away_from = zone;
    r.expires_in = d;
    r.comment = "test";
    r.actor = "api:alice";
    return r;
  }
};

TEST_F(ZonalShiftTest, ManualShiftBlocksLaunchesIntoTheZoneUntilItExpires) {
  Boot(Web(6));
  Run(minutes(2));
  ASSERT_EQ(Active("sim-1a"), 2);
  int before = LaunchesInto("sim-1a");

  auto shift = shifts_->Start(Away("sim-1a", minutes(30)));
  ASSERT_TRUE(shift.ok()) << shift.status().ToString();
  EXPECT_EQ(shift->state, ZonalShiftState::kActive);
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1a"});
  ASSERT_TRUE(controller_->SetDesiredCapacity("web", 12, "test").ok());
  Run(minutes(5));
  EXPECT_EQ(LaunchesInto("sim-1a"), before);
  EXPECT_EQ(Active("sim-1a"), 2);
  EXPECT_EQ(Active("sim-1b") + Active("sim-1c"), 10);

  Run(minutes(26));
  auto ended = shifts_->Get(shift->id);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->state, ZonalShiftState::kExpired);
  EXPECT_EQ(ended->end_reason, "expired");
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  EXPECT_EQ(shifts_->ActiveShift("web"), nullptr);
  ASSERT_EQ(Events("zonal_shift.started").size(), 1u);
  ASSERT_EQ(Events("zonal_shift.ended").size(), 1u);
  EXPECT_EQ(Events("zonal_shift.started")[0].kind, EventKind::kAudit);
}

TEST_F(ZonalShiftTest, IgnoreUnhealthyLeavesInstancesInTheShiftedZoneAlone) {
  GroupSpec g = Web(6);
  g.impaired_zone_behavior = ImpairedZoneBehavior::kIgnoreUnhealthy;
  Boot(g);
  Run(minutes(2));
  ASSERT_TRUE(shifts_->Start(Away("sim-1a", hours(2))).ok());
  std::string victim = ActiveIn("sim-1a")[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(10));
  EXPECT_TRUE(controller_->instance(victim)->verdict.unhealthy);
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_FALSE(Events("recovery.skipped").empty());
  // The other zones still repair their own instances.
  std::string other = ActiveIn("sim-1b")[0];
  ASSERT_TRUE(provider_.CrashInstance(other).ok());
  Run(minutes(5));
  EXPECT_GE(provider_.counters(SimOp::kReboot).calls, 1u);
  EXPECT_FALSE(controller_->instance(other)->verdict.unhealthy);
}

TEST_F(ZonalShiftTest, ReplaceUnhealthyReplacesIntoTheOtherZones) {
  GroupSpec g = Web(6);
  g.impaired_zone_behavior = ImpairedZoneBehavior::kReplaceUnhealthy;
  g.ladder.instance = {LadderRung{RecoveryAction::kReplace}};
  Boot(g);
  Run(minutes(2));
  ASSERT_TRUE(shifts_->Start(Away("sim-1a", hours(2))).ok());
  std::string victim = ActiveIn("sim-1a")[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(10));
  EXPECT_EQ(controller_->instance(victim), nullptr);
  ASSERT_EQ(provider_.terminate_log().size(), 1u);
  EXPECT_EQ(provider_.terminate_log()[0].id, victim);
  EXPECT_EQ(Active("sim-1a"), 1);
  EXPECT_EQ(Active("sim-1b") + Active("sim-1c"), 5);
}

TEST_F(ZonalShiftTest, RefusesAShiftTheOtherZonesCannotHoldUnlessToldToSkip) {
  zone_capacity_ = {{"sim-1a", 100}, {"sim-1b", 3}, {"sim-1c", 4}};
  Boot(Web(9));
  Run(minutes(2));
  auto refused = shifts_->Start(Away("sim-1a"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "shift web away from sim-1a refused: the other zones can hold 7 "
            "of 9 instances (zone capacity: sim-1b 3, sim-1c 4)");
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());

  ZonalShiftRequest r = Away("sim-1a");
  r.skip_validation = true;
  auto forced = shifts_->Start(r);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_TRUE(forced->validation_skipped);
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1a"});
}

TEST_F(ZonalShiftTest, RejectsBadRequests) {
  GroupSpec one = Web(2);
  one.name = "solo";
  one.zones = {"sim-1a"};
  Boot(Web(3));
  ASSERT_TRUE(controller_->ApplyGroup(one).ok());
  EXPECT_EQ(shifts_->Start(Away("sim-9z")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(shifts_->Start(Away("sim-1a", hours(73))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(shifts_->Start(Away("sim-1a", Duration::zero())).status().code(),
            StatusCode::kInvalidArgument);
  ZonalShiftRequest r = Away("sim-1a");
  r.group = "nope";
  EXPECT_EQ(shifts_->Start(r).status().code(), StatusCode::kNotFound);
  r.group = "solo";
  auto solo = shifts_->Start(r);
  EXPECT_EQ(solo.status().message(),
            "shift solo away from sim-1a refused: the group has no other zone");
}

TEST_F(ZonalShiftTest, UpdateExtendsAndCancelEnds) {
  Boot(Web(3));
  Run(minutes(1));
  auto s = shifts_->Start(Away("sim-1b", minutes(10)));
  ASSERT_TRUE(s.ok());
  ZonalShiftUpdate u;
  u.expires_in = hours(1);
  u.comment = "still investigating";
  auto updated = shifts_->Update(s->id, u);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->comment, "still investigating");
  Run(minutes(30));
  EXPECT_EQ(shifts_->Get(s->id)->state, ZonalShiftState::kActive);

  auto canceled = shifts_->Cancel(s->id, "api:bob", "zone is fine");
  ASSERT_TRUE(canceled.ok());
  EXPECT_EQ(canceled->state, ZonalShiftState::kCanceled);
  EXPECT_EQ(canceled->end_reason, "canceled by api:bob: zone is fine");
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());
  EXPECT_EQ(shifts_->Cancel(s->id, "api:bob").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(shifts_->Update(s->id, u).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(shifts_->Update("zs-999999", u).status().code(),
            StatusCode::kNotFound);
  Run(hours(2));  // the old expiry timer must not fire into anything
  EXPECT_EQ(Events("zonal_shift.ended").size(), 1u);
  EXPECT_EQ(Events("zonal_shift.updated").size(), 1u);
}

TEST_F(ZonalShiftTest,
       OneActiveShiftPerGroupWithManualOverAutoshiftOverPractice) {
  Boot(Web(6));
  Run(minutes(1));
  ZonalShiftRequest practice = Away("sim-1c");
  practice.source = ZonalShiftSource::kPracticeRun;
  auto p = shifts_->Start(practice);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(shifts_->Start(practice).status().code(),
            StatusCode::kAlreadyExists);

  ZonalShiftRequest autoshift = Away("sim-1b");
  autoshift.source = ZonalShiftSource::kAutoshift;
  auto a = shifts_->Start(autoshift);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(shifts_->Get(p->id)->state, ZonalShiftState::kCanceled);
  EXPECT_EQ(shifts_->Get(p->id)->end_reason,
            "superseded by autoshift shift " + a->id);
  EXPECT_EQ(shifts_->Start(practice).status().code(),
            StatusCode::kFailedPrecondition);

  auto m = shifts_->Start(Away("sim-1a"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(shifts_->Get(a->id)->state, ZonalShiftState::kCanceled);
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1a"});
  EXPECT_EQ(shifts_->Start(autoshift).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(shifts_->Start(Away("sim-1b")).status().code(),
            StatusCode::kAlreadyExists);

  ZonalShiftFilter active;
  active.state = ZonalShiftState::kActive;
  ASSERT_EQ(shifts_->List(active).size(), 1u);
  EXPECT_EQ(shifts_->List(active)[0].id, m->id);
  EXPECT_EQ(shifts_->List().size(), 3u);
  EXPECT_EQ(shifts_->List()[0].id, m->id);  // newest first
}

TEST_F(ZonalShiftTest, StartsForEveryGroupThatHasTheZone) {
  Boot(Web(3));
  GroupSpec api = Web(2);
  api.name = "api";
  GroupSpec batch = Web(2);
  batch.name = "batch";
  batch.zones = {"sim-1b", "sim-1c"};
  ASSERT_TRUE(controller_->ApplyGroup(api).ok());
  ASSERT_TRUE(controller_->ApplyGroup(batch).ok());
  ZonalShiftRequest r = Away("sim-1a");
  r.group.clear();
  auto all = shifts_->StartForAllGroups(r);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_NE(shifts_->ActiveShift("api"), nullptr);
  EXPECT_NE(shifts_->ActiveShift("web"), nullptr);
  EXPECT_EQ(shifts_->ActiveShift("batch"), nullptr);
  // All or nothing: web already has one now.
  EXPECT_EQ(shifts_->StartForAllGroups(r).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(shifts_->List().size(), 2u);
}

TEST_F(ZonalShiftTest, PersistsAsJsonAndRestoresAfterARestart) {
  Boot(Web(3));
  std::map<std::string, std::string> store;
  shifts_->AddListener(
      [&](const ZonalShift& s) { store[s.id] = ZonalShiftToJson(s); });
  ZonalShiftRequest r = Away("sim-1b", hours(2));
  r.evidence = {{"why", "drill"}};
  auto a = shifts_->Start(r);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(store.size(), 1u);
  auto parsed = ParseZonalShiftJson(store[a->id]);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, *a);

  // A restart: a new manager (and controller view) from the stored strings.
  shifts_ = std::make_unique<ZonalShiftManager>(*controller_);
  controller_->SetShiftedZones("web", {});
  std::vector<std::string> saved;
  for (const auto& [id, json] : store) saved.push_back(json);
  ASSERT_TRUE(shifts_->Restore(saved).ok());
  ASSERT_NE(shifts_->ActiveShift("web"), nullptr);
  EXPECT_EQ(shifts_->ActiveShift("web")->id, a->id);
  EXPECT_EQ(controller_->ShiftedZones("web"), std::set<std::string>{"sim-1b"});
  // New ids continue after the restored ones.
  ASSERT_TRUE(shifts_->Cancel(a->id, "api").ok());
  auto b = shifts_->Start(Away("sim-1c"));
  ASSERT_TRUE(b.ok());
  EXPECT_GT(b->id, a->id);

  // A shift whose expiry passed while Lifeline was down ends as expired.
  ZonalShift old = *a;
  old.id = "zs-000100";
  old.state = ZonalShiftState::kActive;
  old.expires_at = clock_.WallNow() - seconds(1);
  ASSERT_TRUE(shifts_->Cancel(b->id, "api").ok());
  ASSERT_TRUE(shifts_->Restore({ZonalShiftToJson(old)}).ok());
  EXPECT_EQ(shifts_->Get("zs-000100")->state, ZonalShiftState::kExpired);
  EXPECT_TRUE(controller_->ShiftedZones("web").empty());

  auto bad = shifts_->Restore({"{\"id\":\"zs-1\",\"group\":\"web\"}"});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("away_from"), std::string::npos)
      << bad.ToString();
}

}  // namespace
}  // namespace lifeline
