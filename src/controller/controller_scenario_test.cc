// Whole-group scenarios: the controller core against the simulated cloud,
// in simulated time.
#include "controller/fleet_fixture.h"

namespace lifeline {
namespace {

TEST_F(FleetTest, LaunchesToDesiredCapacityBalancedAcrossZones) {
  Boot(Web(6));
  Run(minutes(2));
  EXPECT_EQ(LiveTotal(), 6);
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) EXPECT_EQ(Live(z), 2) << z;
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 6u);
  EXPECT_TRUE(controller_->workflows().empty());
}

TEST_F(FleetTest, HostFailureIsRecoveredInPlace) {
  Boot(Web(6));
  Run(minutes(3));
  std::string victim = ActiveIds()[0];
  std::string old_host = provider_.GroundTruth(victim)->host;
  ASSERT_TRUE(provider_.FailHostOf(victim).ok());
  Run(minutes(5));
  auto t = provider_.GroundTruth(victim);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->lifecycle, Lifecycle::kRunning);
  EXPECT_NE(t->host, old_host);
  EXPECT_GE(provider_.counters(SimOp::kRecover).succeeded, 1u);
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
}

TEST_F(FleetTest, CrashedInstanceIsRebooted) {
  Boot(Web(6));
  Run(minutes(3));
  std::string victim = ActiveIds()[1];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(5));
  EXPECT_GE(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 6u);
}

TEST_F(FleetTest, ApplicationHangClimbsTheLadderToReplace) {
  GroupSpec g = Web(6);
  g.check_application = true;
  g.ladder.application = {{RecoveryAction::kReboot, 1, hours(1), minutes(2)},
                          {RecoveryAction::kReplace, 2, hours(1), minutes(10)}};
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[2];
  ASSERT_TRUE(provider_.HangApplication(victim).ok());
  // The application hangs again every time it comes back: a reboot cannot
  // fix it, only a replacement can.
  for (int i = 0; i < 20 * 60; ++i) {
    Run(seconds(1));
    auto t = provider_.GroundTruth(victim);
    if (t && t->lifecycle == Lifecycle::kRunning && !t->app_hung &&
        !t->host_failed) {
      ASSERT_TRUE(provider_.HangApplication(victim).ok());
    }
  }
  EXPECT_GE(provider_.counters(SimOp::kReboot).succeeded, 1u);
  ASSERT_EQ(provider_.terminate_log().size(), 1u);
  EXPECT_EQ(provider_.terminate_log()[0].id, victim);
  EXPECT_TRUE(HasEvent("recovery.escalated", victim));
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 7u);
  ExpectNoOrphans();
}

TEST_F(FleetTest, ZoneOutOfCapacityLaunchesElsewhere) {
  ASSERT_TRUE(provider_.SetCapacityShortage("sim-1a", true).ok());
  Boot(Web(6));
  Run(minutes(3));
  EXPECT_EQ(Live("sim-1a"), 0);
  EXPECT_EQ(LiveTotal(), 6);
  EXPECT_TRUE(HasEvent("capacity.zone_changed"));
  ExpectAllHealthy(6);
}

TEST_F(FleetTest, ThrottlingBacksOffWithoutLosingTheWorkflow) {
  Boot(Web(6));
  Run(minutes(3));
  std::string victim = ActiveIds()[0];
  SimApiFaults faults;
  faults.throttle_rate = 1.0;  // every call throttled for a while
  faults.retry_after = std::chrono::milliseconds(2000);
  provider_.SetApiFaults(faults);
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(2));
  EXPECT_TRUE(HasEvent("workflow.retry", victim));
  EXPECT_EQ(controller_->workflows().size(), 1u);  // still there
  provider_.ClearApiFaults();
  Run(minutes(5));
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 6u);
}

TEST_F(FleetTest, InstanceTerminatedBehindOurBackIsReplacedWithTheSameSpec) {
  Boot(Web(6));
  Run(minutes(3));
  std::string victim = ActiveIds()[3];
  std::string zone = provider_.GroundTruth(victim)->zone;
  ASSERT_TRUE(provider_.TerminateBehindBack(victim).ok());
  Run(minutes(2));
  EXPECT_TRUE(HasEvent("instance.lost", victim));
  EXPECT_EQ(provider_.instances_created(), 7u);
  EXPECT_EQ(Live(zone), 2);  // balance restored in the same zone
  ExpectAllHealthy(6);
  for (const auto& id : ActiveIds()) {
    EXPECT_EQ(provider_.GroundTruth(id)->group, "web");
  }
}

TEST_F(FleetTest, DesiredCapacityChangesScaleOutAndInBalanced) {
  Boot(Web(6));
  Run(minutes(3));
  ASSERT_TRUE(controller_->SetDesiredCapacity("web", 9, "test").ok());
  Run(minutes(3));
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) EXPECT_EQ(Live(z), 3) << z;
  ASSERT_TRUE(controller_->SetDesiredCapacity("web", 3, "test").ok());
  Run(minutes(3));
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) EXPECT_EQ(Live(z), 1) << z;
  ExpectAllHealthy(3);
  EXPECT_EQ(controller_->SetDesiredCapacity("web", 99, "test").code(),
            StatusCode::kInvalidArgument);
}

TEST_F(FleetTest, ReplacementThatNeverBecomesHealthyIsCleanedUp) {
  GroupSpec g = Web(3);
  g.check_application = true;
  g.ladder.instance = {{RecoveryAction::kReplace, 1, hours(1), minutes(10)}};
  g.replacement_timeout = minutes(3);
  Boot(g);
  Run(minutes(3));
  std::set<std::string> original;
  for (const auto& id : ActiveIds()) original.insert(id);
  std::string victim = *original.begin();
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  // Every new instance crashes as soon as it runs, before its first
  // heartbeat could make it ready.
  for (int i = 0; i < 30 * 60 * 20; ++i) {
    loop_.RunFor(std::chrono::milliseconds(50));
    for (const auto& id : provider_.InstanceIds(false)) {
      auto t = provider_.GroundTruth(id);
      if (!original.count(id) && t->lifecycle == Lifecycle::kRunning &&
          !t->crashed) {
        ASSERT_TRUE(provider_.CrashInstance(id).ok());
      }
    }
  }
  EXPECT_TRUE(HasEvent("replacement.abandoned"));
  EXPECT_TRUE(HasEvent("recovery.exhausted", victim));
  // One replacement per zone was tried, each terminated again.
  EXPECT_EQ(provider_.instances_created(), 3u + 3u);
  EXPECT_EQ(LiveTotal(), 3);
  ExpectNoOrphans();
  EXPECT_TRUE(controller_->workflows().empty());
}

TEST_F(FleetTest, HeartbeatSilenceEverywhereDestroysNothing) {
  GroupSpec g = Web(9);
  g.check_application = true;
  Boot(g);
  Run(minutes(3));
  heartbeats_->PartitionZone("");  // the observer loses every heartbeat
  Run(minutes(30));
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(HasEvent("safety.partition.entered"));
  heartbeats_->HealPartition("");
  Run(minutes(2));
  ExpectAllHealthy(9);
}

TEST_F(FleetTest, OneSilentZoneIsNotDestroyed) {
  GroupSpec g = Web(9);
  g.check_application = true;
  Boot(g);
  Run(minutes(3));
  heartbeats_->PartitionZone("sim-1b");
  Run(minutes(30));
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(HasEvent("safety.deferred"));
}

TEST_F(FleetTest, ZonePanicSurgesCapacityElsewhereAndScalesBackAfterwards) {
  GroupSpec g = Web(9);
  g.check_application = true;
  Boot(g);
  Run(minutes(3));
  ASSERT_EQ(Live("sim-1b"), 3);
  ASSERT_TRUE(provider_.FailZone("sim-1b").ok());
  Run(minutes(5));
  // The zone is in panic: nothing there is touched, but the group serves
  // its desired capacity from the other zones meanwhile.
  EXPECT_TRUE(HasEvent("safety.panic.entered"));
  EXPECT_TRUE(HasEvent("capacity.surge"));
  EXPECT_TRUE(provider_.terminate_log().empty());
  EXPECT_EQ(provider_.counters(SimOp::kRecover).calls, 0u);
  EXPECT_EQ(Live("sim-1b"), 3);
  EXPECT_EQ(Live("sim-1a") + Live("sim-1c"), 9);
  int serving = 0;
  for (const auto& id : ActiveIds()) serving += provider_.GroundTruth(id)->healthy();
  EXPECT_EQ(serving, 9);
  // The zone returns: the surplus stays for surge_hold, then goes.
  ASSERT_TRUE(provider_.RecoverZone("sim-1b").ok());
  Run(minutes(2));
  EXPECT_TRUE(HasEvent("safety.panic.left"));
  EXPECT_EQ(LiveTotal(), 12);
  Run(config_.surge_hold + minutes(2));
  EXPECT_EQ(LiveTotal(), 9);
  ExpectAllHealthy(9);
  ExpectNoOrphans();
}

// Launch tokens derive from workflow ids; a fresh journal must not reuse
// the ids (and so the provider-side idempotency tokens) of another one.
TEST_F(FleetTest, AFreshJournalNumbersWorkflowsFromTheConfiguredBase) {
  config_.first_workflow_id = 7'000'000;
  Boot(Web(3));
  Run(minutes(1));
  auto token_number = [&](const std::string& id) {
    std::string t = provider_.GroundTruth(id)->launched_by_token;  // wf-N-attempt
    return std::stoull(t.substr(3, t.rfind('-') - 3));
  };
  auto ids = ActiveIds();
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& id : ids) EXPECT_GE(token_number(id), 7'000'000u) << id;
  // The same journal on restart continues from its own floor, whatever the
  // configured base.
  config_.first_workflow_id = 1;
  Boot(Web(4));
  Run(minutes(2));
  ids = ActiveIds();
  ASSERT_EQ(ids.size(), 4u);
  for (const auto& id : ids) EXPECT_GE(token_number(id), 7'000'000u) << id;
}

TEST_F(FleetTest, GroupOwnedAddressIsAttachedToOneInstance) {
  ASSERT_TRUE(provider_.CreateAddress("203.0.113.10", "").ok());
  GroupSpec g = Web(3);
  g.addresses = {"203.0.113.10"};
  Boot(g);
  Run(minutes(3));
  auto owner = provider_.AddressOwner("203.0.113.10");
  ASSERT_TRUE(owner.has_value());
  auto ids = ActiveIds();
  EXPECT_NE(std::find(ids.begin(), ids.end(), *owner), ids.end()) << *owner;
  EXPECT_TRUE(HasEvent("address.attached", *owner));
}

TEST_F(FleetTest, LostInstancesAddressMovesToTheInstanceThatRestoresCapacity) {
  Boot(Web(3));
  Run(minutes(3));
  auto before = ActiveIds();
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = before.front();
  ASSERT_TRUE(provider_.CreateAddress("203.0.113.20", victim).ok());
  Boot(Web(3));  // the same journal: adoption learns the address
  Run(minutes(1));
  ASSERT_TRUE(provider_.TerminateBehindBack(victim).ok());
  Run(minutes(3));
  auto after = ActiveIds();
  ASSERT_EQ(after.size(), 3u);
  std::string fresh;
  for (const auto& id : after) {
    if (std::find(before.begin(), before.end(), id) == before.end()) fresh = id;
  }
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(provider_.AddressOwner("203.0.113.20"), fresh);
  EXPECT_TRUE(HasEvent("address.left", victim));
}

TEST_F(FleetTest, AddressAssociatedAfterLaunchIsLearnedAndFollowsTheInstance) {
  Boot(Web(3));
  Run(minutes(3));
  auto before = ActiveIds();
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = before.front();
  ASSERT_TRUE(provider_.CreateAddress("203.0.113.30", victim).ok());
  EXPECT_TRUE(controller_->instance(victim)->info.addresses.empty());
  Run(config_.inventory_interval + seconds(10));
  EXPECT_EQ(controller_->instance(victim)->info.addresses,
            std::vector<std::string>{"203.0.113.30"});
  EXPECT_TRUE(HasEvent("instance.addresses", victim));
  ASSERT_TRUE(provider_.TerminateBehindBack(victim).ok());
  Run(minutes(3));
  auto owner = provider_.AddressOwner("203.0.113.30");
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(std::find(before.begin(), before.end(), *owner), before.end())
      << "expected the new instance to hold it, not " << *owner;
}

TEST_F(FleetTest, FrozenFleetIsLeftAloneAndResumesWhenThawed) {
  Boot(Web(3));
  Run(minutes(3));
  ASSERT_TRUE(controller_->SetFleetFrozen(true, "maintenance", "test").ok());
  std::string victim = ActiveIds()[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(10));
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(HasEvent("safety.deferred", victim));
  ASSERT_TRUE(controller_->SetFleetFrozen(false, "", "test").ok());
  Run(minutes(5));
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
}

TEST_F(FleetTest, DryRunRecordsTheDecisionAndExecutesNothing) {
  GroupSpec g = Web(3);
  g.safety.dry_run = true;
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(10));
  EXPECT_TRUE(HasEvent("recovery.dry_run", victim));
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_TRUE(provider_.terminate_log().empty());
}

TEST_F(FleetTest, CrashMidReplacementResumesWithoutDuplicateOrOrphan) {
  GroupSpec g = Web(3);
  g.ladder.instance = {{RecoveryAction::kReplace, 1, hours(1), minutes(10)}};
  Boot(g);
  Run(minutes(3));
  std::string victim = ActiveIds()[0];
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  // Run until the replacement launch is in flight or awaiting readiness.
  for (int i = 0; i < 600; ++i) {
    loop_.RunFor(std::chrono::milliseconds(100));
    bool launching = false;
    for (const auto& [id, wf] : controller_->workflows()) {
      launching |= wf.state == WorkflowState::kLaunching;
    }
    if (launching) break;
  }
  ASSERT_EQ(journal_.size(), 1u);
  // Lifeline dies; its pending callbacks die with it.
  heartbeats_.reset();
  controller_.reset();
  loop_.RunFor(seconds(5));
  controller_ = std::make_unique<Controller>(loop_, provider_, history_,
                                             config_, &journal_);
  heartbeats_ = std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
  ASSERT_TRUE(controller_->ApplyGroup(g).ok());
  controller_->Start();
  Run(minutes(10));
  EXPECT_TRUE(HasEvent("workflow.resumed", victim));
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  EXPECT_EQ(provider_.instances_created(), 4u);  // exactly one replacement
  ASSERT_EQ(provider_.terminate_log().size(), 1u);
  EXPECT_EQ(provider_.terminate_log()[0].id, victim);
  ExpectAllHealthy(3);
  ExpectNoOrphans();
  EXPECT_EQ(journal_.size(), 0u);
}

TEST_F(FleetTest, SameSeedSameHistory) {
  auto run = [](uint64_t seed) {
    SimClock clock;
    SimLoop loop(clock);
    SimProvider provider(loop, seed, DefaultSimConfig());
    MemoryHistory history;
    ControllerConfig cfg;
    cfg.seed = seed;
    Controller c(loop, provider, history, cfg);
    EXPECT_TRUE(c.ApplyGroup(Web(6)).ok());
    c.Start();
    loop.RunFor(minutes(3));
    EXPECT_TRUE(provider.CrashInstance(provider.InstanceIds(false)[0]).ok());
    loop.RunFor(minutes(5));
    std::vector<std::string> out;
    for (const auto& e : history.Query({})) {
      out.push_back(FormatWallTime(e.at) + " " + e.type + " " + e.instance +
                    " " + e.message);
    }
    return out;
  };
  auto a = run(11);
  auto b = run(11);
  EXPECT_EQ(a, b);
  EXPECT_GT(a.size(), 10u);
}

}  // namespace
}  // namespace lifeline
