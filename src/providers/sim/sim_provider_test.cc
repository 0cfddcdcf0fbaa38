// SimProvider: the Provider operations, their timing and their error paths.
#include "providers/sim/sim_provider.h"

#include <gtest/gtest.h>

#include "providers/sim/sim_test_util.h"

namespace lifeline {
namespace {

using sim_testing::SimTest;

using SimProviderOps = SimTest;

TEST_F(SimProviderOps, LaunchAnswersPendingAfterLatencyThenBoots) {
  std::optional<Result<InstanceInfo>> got;
  MonoTime start = loop_.Now();
  sim_->Launch(Request("web", "sim-1b", "tok-1"),
               [&](Result<InstanceInfo> r) { got = std::move(r); });
  EXPECT_FALSE(got) << "completion must not run inside the call";
  loop_.RunPosted();
  EXPECT_FALSE(got);
  loop_.RunUntil(start + milliseconds(999));
  EXPECT_FALSE(got);
  loop_.RunUntil(start + seconds(1));
  ASSERT_TRUE(got && got->ok()) << got->status().ToString();
  const InstanceInfo& info = **got;
  EXPECT_EQ(info.id, "sim-000001");
  EXPECT_EQ(info.group, "web");
  EXPECT_EQ(info.zone, "sim-1b");
  EXPECT_EQ(info.host.rfind("sim-1b-h", 0), 0u) << info.host;
  EXPECT_EQ(info.lifecycle, Lifecycle::kPending);
  EXPECT_EQ(info.system_check, CheckState::kInitializing);
  EXPECT_EQ(info.launch_token, "tok-1");
  EXPECT_EQ(info.tags.at("team"), "infra");
  EXPECT_EQ(info.tags.at(std::string(kGroupTag)), "web");
  EXPECT_EQ(info.tags.at(std::string(kTokenTag)), "tok-1");
  EXPECT_EQ(info.launch_time, clock_.WallNow() - seconds(1));

  loop_.RunUntil(start + seconds(10));
  EXPECT_EQ(Truth("sim-000001").lifecycle, Lifecycle::kPending);
  loop_.RunUntil(start + seconds(11));
  SimTruth t = Truth("sim-000001");
  EXPECT_EQ(t.lifecycle, Lifecycle::kRunning);
  EXPECT_TRUE(t.app_alive());
  EXPECT_TRUE(t.healthy());
  EXPECT_EQ(t.launched_by_token, "tok-1");
  EXPECT_EQ(t.launched_at, start);

  EXPECT_EQ(LaunchRunning("sim-1a", "tok-2"), "sim-000002");
  EXPECT_EQ(sim_->counters(SimOp::kLaunch).calls, 2u);
  EXPECT_EQ(sim_->counters(SimOp::kLaunch).succeeded, 2u);
  EXPECT_EQ(sim_->counters(SimOp::kBoot).succeeded, 2u);
}

TEST_F(SimProviderOps, LaunchIsIdempotentByToken) {
  std::vector<std::string> ids;
  LaunchRequest r = Request("web", "sim-1a", "same");
  // Two concurrent calls and one later retry: one instance.
  for (int k = 0; k < 2; ++k) {
    sim_->Launch(r, [&](Result<InstanceInfo> res) {
      ASSERT_TRUE(res.ok());
      ids.push_back(res->id);
    });
  }
  loop_.RunUntilIdle();
  Result<InstanceInfo> again = Launch(r);
  ASSERT_TRUE(again.ok());
  ids.push_back(again->id);
  EXPECT_EQ(ids, std::vector<std::string>(3, "sim-000001"));
  EXPECT_EQ(again->lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(sim_->instances_created(), 1u);
  EXPECT_EQ(sim_->Count("", Lifecycle::kRunning), 1u);

  // Even once terminated, the token names that instance, never a new one.
  ASSERT_TRUE(Terminate("sim-000001").ok());
  Result<InstanceInfo> after = Launch(r);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->id, "sim-000001");
  EXPECT_EQ(after->lifecycle, Lifecycle::kTerminated);
  EXPECT_EQ(sim_->instances_created(), 1u);
}

TEST_F(SimProviderOps, LaunchTokenReusedWithOtherParametersIsRejected) {
  ASSERT_TRUE(Launch(Request("web", "sim-1a", "t")).ok());
  Result<InstanceInfo> other = Launch(Request("web", "sim-1b", "t"));
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("reused with different parameters"),
            std::string::npos)
      << other.status().message();
  EXPECT_EQ(sim_->instances_created(), 1u);
}

TEST_F(SimProviderOps, LaunchIntoUnknownZoneNamesZoneAndOperation) {
  Result<InstanceInfo> r = Launch(Request("web", "nowhere", "t"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "sim: Launch(web, nowhere): unknown zone");
  EXPECT_EQ(sim_->counters(SimOp::kLaunch).failed, 1u);
  EXPECT_EQ(sim_->instance_count(), 0u);
}

TEST_F(SimProviderOps, LaunchStoppedBecomesAStoppedStandby) {
  LaunchRequest r = Request("web", "sim-1a", "warm");
  r.stopped = true;
  ASSERT_TRUE(Launch(r).ok());
  loop_.RunFor(seconds(11));
  EXPECT_EQ(Truth("sim-000001").lifecycle, Lifecycle::kStopped);
  ASSERT_TRUE(Start("sim-000001").ok());
  EXPECT_EQ(Truth("sim-000001").lifecycle, Lifecycle::kPending);
  loop_.RunFor(seconds(10));
  EXPECT_EQ(Truth("sim-000001").lifecycle, Lifecycle::kRunning);
}

TEST(SimProviderCapacity, ZoneCapacityLimitsLaunchesUntilTermination) {
  SimConfig c = sim_testing::FixedConfig();
  c.zones[0].zone_capacity = 2;
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, 1, c);
  std::vector<Result<InstanceInfo>> results;
  for (int k = 0; k < 3; ++k) {
    LaunchRequest r;
    r.group = "web";
    r.zone = "sim-1a";
    r.idempotency_token = "t" + std::to_string(k);
    sim.Launch(r, [&](Result<InstanceInfo> res) { results.push_back(res); });
  }
  loop.RunUntilIdle();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(results[2].status().message(),
            "sim: Launch(web, sim-1a): insufficient capacity");
  sim.Terminate("sim-000001", [](Status st) { EXPECT_TRUE(st.ok()); });
  loop.RunUntilIdle();
  LaunchRequest r;
  r.group = "web";
  r.zone = "sim-1a";
  r.idempotency_token = "t2";
  bool ok = false;
  sim.Launch(r, [&](Result<InstanceInfo> res) { ok = res.ok(); });
  loop.RunUntilIdle();
  EXPECT_TRUE(ok);
}

TEST(SimProviderCapacity, HostCapacitySpreadsAndLimits) {
  SimConfig c = sim_testing::FixedConfig();
  c.zones[0].hosts = 2;
  c.zones[0].instances_per_host = 1;
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, 1, c);
  std::vector<Result<InstanceInfo>> results;
  for (int k = 0; k < 3; ++k) {
    LaunchRequest r;
    r.group = "web";
    r.zone = "sim-1a";
    r.idempotency_token = "t" + std::to_string(k);
    sim.Launch(r, [&](Result<InstanceInfo> res) { results.push_back(res); });
  }
  loop.RunUntilIdle();
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_NE(results[0]->host, results[1]->host);
  EXPECT_EQ(results[2].status().code(), StatusCode::kResourceExhausted);
}

TEST_F(SimProviderOps, TerminateIsIdempotentAndLogged) {
  std::string id = LaunchRunning("sim-1a", "t");
  MonoTime called = loop_.Now();
  std::optional<Status> got;
  sim_->Terminate(id, [&](Status st) { got = st; });
  loop_.RunUntil(called + seconds(1));
  EXPECT_FALSE(got);
  EXPECT_EQ(Truth(id).lifecycle, Lifecycle::kRunning);
  loop_.RunUntil(called + seconds(2));
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ(Truth(id).lifecycle, Lifecycle::kTerminated);

  EXPECT_TRUE(Terminate(id).ok());
  EXPECT_TRUE(Terminate("sim-000999").ok());
  EXPECT_TRUE(Terminate("not-an-id").ok());
  ASSERT_EQ(sim_->terminate_log().size(), 1u);
  const SimTerminateRecord& rec = sim_->terminate_log()[0];
  EXPECT_EQ(rec.id, id);
  EXPECT_TRUE(rec.by_api);
  EXPECT_EQ(rec.at, called + seconds(2));
  EXPECT_TRUE(rec.before.healthy());
  EXPECT_EQ(sim_->counters(SimOp::kTerminate).calls, 4u);
  EXPECT_EQ(sim_->Count("sim-1a", Lifecycle::kTerminated), 1u);
  EXPECT_EQ(sim_->Count("sim-1a", Lifecycle::kRunning), 0u);
}

TEST_F(SimProviderOps, RebootFixesCrashAndHangButNotHostFailure) {
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_TRUE(sim_->CrashInstance(id).ok());
  ASSERT_TRUE(sim_->HangApplication(id).ok());
  EXPECT_TRUE(Reboot(id).ok());
  SimTruth t = Truth(id);
  EXPECT_FALSE(t.crashed);
  EXPECT_FALSE(t.app_hung);
  EXPECT_TRUE(t.app_alive());

  ASSERT_TRUE(sim_->FailHostOf(id).ok());
  EXPECT_TRUE(Reboot(id).ok());
  EXPECT_TRUE(Truth(id).host_failed);
  EXPECT_FALSE(Truth(id).app_alive());
}

TEST_F(SimProviderOps, RebootErrorsNameInstanceAndState) {
  Status unknown = Reboot("sim-000042");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "sim: Reboot(sim-000042): no such instance");
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_TRUE(Stop(id).ok());
  Status stopped = Reboot(id);
  EXPECT_EQ(stopped.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stopped.message(), "sim: Reboot(" + id + "): instance is stopped");
  EXPECT_EQ(sim_->counters(SimOp::kReboot).failed, 2u);
}

TEST_F(SimProviderOps, RecoverMovesToHealthyHostKeepingIdentity) {
  std::string id = LaunchRunning("sim-1a", "t");
  std::string old_host = Truth(id).host;
  ASSERT_TRUE(sim_->FailHostOf(id).ok());
  ASSERT_TRUE(sim_->CrashInstance(id).ok());
  Result<std::vector<InstanceStatus>> before = Describe({id});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)[0].system_check, CheckState::kImpaired);
  EXPECT_EQ((*before)[0].instance_check, CheckState::kImpaired);

  MonoTime called = loop_.Now();
  EXPECT_TRUE(Recover(id).ok());
  EXPECT_EQ(loop_.Now() - called, seconds(20));
  SimTruth t = Truth(id);
  EXPECT_EQ(t.id, id);
  EXPECT_NE(t.host, old_host);
  EXPECT_EQ(t.zone, "sim-1a");
  EXPECT_FALSE(t.host_failed);
  EXPECT_FALSE(t.crashed);
  EXPECT_TRUE(t.healthy());
  Result<std::vector<InstanceStatus>> after = Describe({id});
  EXPECT_EQ((*after)[0].system_check, CheckState::kOk);
  EXPECT_EQ((*after)[0].instance_check, CheckState::kOk);
}

TEST_F(SimProviderOps, RecoverFailsWithoutAHealthyHost) {
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_TRUE(sim_->FailZone("sim-1a").ok());
  Status st = Recover(id);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "sim: Recover(" + id + "): no healthy host in zone sim-1a");
  ASSERT_TRUE(sim_->RepairHost("sim-1a-h002").ok());
  EXPECT_TRUE(Recover(id).ok());
  EXPECT_EQ(Truth(id).host, "sim-1a-h002");
}

TEST_F(SimProviderOps, StopAndStartCycleTheLifecycle) {
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_TRUE(sim_->HangApplication(id).ok());
  EXPECT_TRUE(Stop(id).ok());
  EXPECT_EQ(Truth(id).lifecycle, Lifecycle::kStopped);
  EXPECT_FALSE(Truth(id).app_hung);
  EXPECT_TRUE(Stop(id).ok()) << "stopping a stopped instance succeeds";
  // Starting off a failed host lands on another one.
  std::string old_host = Truth(id).host;
  ASSERT_TRUE(sim_->FailHost(old_host).ok());
  EXPECT_TRUE(Start(id).ok());
  EXPECT_EQ(Truth(id).lifecycle, Lifecycle::kPending);
  EXPECT_NE(Truth(id).host, old_host);
  loop_.RunFor(seconds(10));
  EXPECT_TRUE(Truth(id).healthy());
  EXPECT_TRUE(Start(id).ok()) << "starting a running instance succeeds";

  ASSERT_TRUE(Terminate(id).ok());
  EXPECT_EQ(Stop(id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Start(id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Start("sim-000077").code(), StatusCode::kNotFound);
}

TEST_F(SimProviderOps, DescribeStatusIsBatchedAndReportsUnknownAsTerminated) {
  std::string a = LaunchRunning("sim-1a", "a");
  std::string b = LaunchRunning("sim-1b", "b");
  ASSERT_TRUE(sim_->CrashInstance(b).ok());
  Result<std::vector<InstanceStatus>> r = Describe({b, "sim-000123", a});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, b);
  EXPECT_EQ((*r)[0].lifecycle, Lifecycle::kRunning);
  EXPECT_EQ((*r)[0].system_check, CheckState::kOk);
  EXPECT_EQ((*r)[0].instance_check, CheckState::kImpaired);
  EXPECT_EQ((*r)[1].id, "sim-000123");
  EXPECT_EQ((*r)[1].lifecycle, Lifecycle::kTerminated);
  EXPECT_EQ((*r)[2].instance_check, CheckState::kOk);
  EXPECT_EQ(sim_->counters(SimOp::kDescribeStatus).calls, 1u);
}

TEST_F(SimProviderOps, DescribeAllShowsTerminatedForAnHourOnly) {
  std::string a = LaunchRunning("sim-1a", "a");
  std::string b = LaunchRunning("sim-1a", "b");
  ASSERT_TRUE(Terminate(a).ok());
  Result<std::vector<InstanceStatus>> all = Describe({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].lifecycle, Lifecycle::kTerminated);
  loop_.RunFor(hours(1));
  all = Describe({});
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, b);
  // Named explicitly it is still answered.
  EXPECT_EQ((*Describe({a}))[0].lifecycle, Lifecycle::kTerminated);
}

TEST_F(SimProviderOps, ListInstancesFindsLiveInstancesByGroup) {
  std::string w1 = LaunchRunning("sim-1a", "w1", "web");
  std::string w2 = LaunchRunning("sim-1b", "w2", "web");
  std::string d1 = LaunchRunning("sim-1c", "d1", "db");
  ASSERT_TRUE(Terminate(w2).ok());
  auto list = [&](const std::string& group) {
    std::optional<Result<std::vector<InstanceInfo>>> got;
    sim_->ListInstances(group, [&](Result<std::vector<InstanceInfo>> r) {
      got = std::move(r);
    });
    Result<std::vector<InstanceInfo>> r = Await(got);
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const InstanceInfo& i : *r) ids.push_back(i.id);
    }
    return ids;
  };
  EXPECT_EQ(list("web"), std::vector<std::string>{w1});
  EXPECT_EQ(list("db"), std::vector<std::string>{d1});
  EXPECT_EQ(list(""), (std::vector<std::string>{w1, d1}));
  EXPECT_TRUE(list("none").empty());
}

TEST_F(SimProviderOps, ListZonesReportsAvailability) {
  ASSERT_TRUE(sim_->FailZone("sim-1b").ok());
  std::optional<Result<std::vector<ZoneInfo>>> got;
  sim_->ListZones([&](Result<std::vector<ZoneInfo>> r) { got = std::move(r); });
  Result<std::vector<ZoneInfo>> zones = Await(got);
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 3u);
  EXPECT_TRUE((*zones)[0].available);
  EXPECT_EQ((*zones)[1].name, "sim-1b");
  EXPECT_FALSE((*zones)[1].available);
}

TEST_F(SimProviderOps, PendingCompletionsAreDroppedWithTheProvider) {
  bool called = false;
  sim_->Launch(Request("web", "sim-1a", "t"),
               [&](Result<InstanceInfo>) { called = true; });
  sim_.reset();
  loop_.RunUntilIdle();
  EXPECT_FALSE(called);
}

TEST_F(SimProviderOps, IdsAreExactAndMalformedOnesAreUnknown) {
  LaunchRunning("sim-1a", "t");
  EXPECT_EQ(sim_->IndexOf("sim-000001"), std::optional<SimIndex>(0));
  EXPECT_FALSE(sim_->IndexOf("sim-1"));
  EXPECT_FALSE(sim_->IndexOf("sim-0000001"));
  EXPECT_FALSE(sim_->IndexOf("sim-000000"));
  EXPECT_FALSE(sim_->IndexOf("sim-00000x"));
  EXPECT_FALSE(sim_->IndexOf("i-000001"));
  EXPECT_FALSE(sim_->GroundTruth("sim-000002"));
  EXPECT_EQ(sim_->IdOf(41), "sim-000042");
}

TEST(SimConfigValidation, NamesTheFirstProblem) {
  EXPECT_TRUE(ValidateSimConfig(DefaultSimConfig()).ok());
  SimConfig c = DefaultSimConfig();
  c.zones[1].name = "sim-1a";
  EXPECT_EQ(ValidateSimConfig(c).message(),
            "sim config: zone sim-1a: duplicate");
  c = DefaultSimConfig();
  c.zones[2].hosts = 0;
  EXPECT_EQ(ValidateSimConfig(c).message(),
            "sim config: zone sim-1c: hosts must be positive, got 0");
  c = DefaultSimConfig();
  c.latency_of(SimOp::kReboot).base = seconds(-1);
  EXPECT_EQ(ValidateSimConfig(c).message(),
            "sim config: latency of Reboot: negative");
  EXPECT_EQ(ValidateSimConfig(SimConfig{}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ToString(SimOp::kSnapshotVolumes), "SnapshotVolumes");
  EXPECT_EQ(ToString(CrashKind::kStopped), "stopped");
}

}  // namespace
}  // namespace lifeline
