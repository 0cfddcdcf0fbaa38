// SimProvider: injected faults and their healing, status pushes, truth
// notifications, control-plane faults and determinism.
#include <gtest/gtest.h>

#include <algorithm>

#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_test_util.h"

namespace lifeline {
namespace {

class SimFaults : public sim_testing::SimTest {
 protected:
  SimFaults() {
    sim_->SetStatusSink(
        [this](const InstanceStatus& s) { pushed_.push_back(s); });
    sim_->SetTruthListener(
        [this](const std::string& id) { truth_changed_.push_back(id); });
  }
  std::vector<InstanceStatus> pushed_;
  std::vector<std::string> truth_changed_;
};

TEST_F(SimFaults, BootAndTerminationArePushedToTheSink) {
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_EQ(pushed_.size(), 1u);
  EXPECT_EQ(pushed_[0].id, id);
  EXPECT_EQ(pushed_[0].lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(truth_changed_, std::vector<std::string>{id});
  ASSERT_TRUE(Terminate(id).ok());
  ASSERT_EQ(pushed_.size(), 2u);
  EXPECT_EQ(pushed_[1].lifecycle, Lifecycle::kTerminated);
}

TEST_F(SimFaults, HostFailureImpairsEveryInstanceOnTheHostUntilRepaired) {
  // 4 hosts per zone, round-robin: instances 1 and 5 share host h000.
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    ids.push_back(LaunchRunning("sim-1a", "t" + std::to_string(k)));
  }
  ASSERT_EQ(Truth(ids[0]).host, Truth(ids[4]).host);
  pushed_.clear();
  truth_changed_.clear();

  ASSERT_TRUE(sim_->FailHost("sim-1a-h000").ok());
  EXPECT_EQ(truth_changed_, (std::vector<std::string>{ids[0], ids[4]}))
      << "the listener hears at once";
  EXPECT_TRUE(pushed_.empty()) << "the sink hears on the loop, not inside";
  loop_.RunPosted();
  ASSERT_EQ(pushed_.size(), 2u);
  for (const InstanceStatus& s : pushed_) {
    EXPECT_EQ(s.system_check, CheckState::kImpaired);
    EXPECT_EQ(s.instance_check, CheckState::kImpaired);
    EXPECT_EQ(s.lifecycle, Lifecycle::kRunning);
  }
  EXPECT_TRUE(Truth(ids[0]).host_failed);
  EXPECT_FALSE(Truth(ids[0]).app_alive());
  EXPECT_FALSE(Truth(ids[1]).host_failed);
  EXPECT_FALSE(sim_->AppAliveAt(0));
  EXPECT_TRUE(sim_->AppAliveAt(1));

  ASSERT_TRUE(sim_->RepairHost("sim-1a-h000").ok());
  loop_.RunPosted();
  ASSERT_EQ(pushed_.size(), 4u);
  EXPECT_EQ(pushed_[3].system_check, CheckState::kOk);
  EXPECT_TRUE(Truth(ids[4]).healthy());

  EXPECT_EQ(sim_->FailHost("sim-1a-h009").code(), StatusCode::kNotFound);
  EXPECT_EQ(sim_->FailHost("bogus").message(),
            "sim: FailHost(bogus): no such host");
  EXPECT_EQ(sim_->HostNames("sim-1a").size(), 4u);
}

TEST_F(SimFaults, CrashImpairsTheInstanceCheck) {
  std::string id = LaunchRunning("sim-1a", "t");
  pushed_.clear();
  ASSERT_TRUE(sim_->CrashInstance(id).ok());
  loop_.RunPosted();
  ASSERT_EQ(pushed_.size(), 1u);
  EXPECT_EQ(pushed_[0].system_check, CheckState::kOk);
  EXPECT_EQ(pushed_[0].instance_check, CheckState::kImpaired);
  EXPECT_TRUE(Truth(id).crashed);
  ASSERT_TRUE(sim_->HealInstance(id).ok());
  EXPECT_TRUE(Truth(id).healthy());
}

TEST_F(SimFaults, CrashToStoppedNeedsAStart) {
  std::string id = LaunchRunning("sim-1a", "t");
  ASSERT_TRUE(sim_->CrashInstance(id, CrashKind::kStopped).ok());
  EXPECT_EQ(Truth(id).lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(sim_->CrashInstance(id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reboot(id).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Start(id).ok());
  loop_.RunFor(seconds(10));
  EXPECT_TRUE(Truth(id).healthy());
}

TEST_F(SimFaults, ApplicationHangIsVisibleOnlyInGroundTruth) {
  std::string id = LaunchRunning("sim-1a", "t");
  pushed_.clear();
  truth_changed_.clear();
  ASSERT_TRUE(sim_->HangApplication(id).ok());
  loop_.RunPosted();
  EXPECT_TRUE(pushed_.empty());
  EXPECT_EQ(truth_changed_, std::vector<std::string>{id});
  Result<std::vector<InstanceStatus>> st = Describe({id});
  EXPECT_EQ((*st)[0].instance_check, CheckState::kOk);
  EXPECT_EQ((*st)[0].system_check, CheckState::kOk);
  EXPECT_TRUE(Truth(id).app_hung);
  EXPECT_FALSE(Truth(id).app_alive());
  ASSERT_TRUE(Reboot(id).ok());
  EXPECT_TRUE(Truth(id).app_alive());
}

TEST_F(SimFaults, GrayZoneDegradationShowsInTruthAndFailsSomeLaunches) {
  std::string a = LaunchRunning("sim-1a", "a");
  std::string b = LaunchRunning("sim-1b", "b");
  truth_changed_.clear();
  ASSERT_TRUE(sim_->DegradeZone("sim-1a", {0.3, 800, 0.5}).ok());
  EXPECT_EQ(truth_changed_, std::vector<std::string>{a});
  EXPECT_DOUBLE_EQ(Truth(a).error_ratio, 0.3);
  EXPECT_DOUBLE_EQ(Truth(a).latency_ms, 800);
  EXPECT_TRUE(Truth(a).app_alive());
  EXPECT_FALSE(Truth(a).healthy());
  EXPECT_DOUBLE_EQ(Truth(b).error_ratio, 0);
  EXPECT_DOUBLE_EQ(Truth(b).latency_ms, 20);

  int failed = 0;
  for (int k = 0; k < 200; ++k) {
    Result<InstanceInfo> r =
        Launch(Request("web", "sim-1a", "g" + std::to_string(k)));
    if (!r.ok()) {
      ++failed;
      EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
      EXPECT_EQ(r.status().message(),
                "sim: Launch(web, sim-1a): launch failed in degraded zone");
    }
  }
  EXPECT_GT(failed, 60);
  EXPECT_LT(failed, 140);

  ASSERT_TRUE(sim_->HealZone("sim-1a").ok());
  EXPECT_TRUE(Truth(a).healthy());
  EXPECT_TRUE(Launch(Request("web", "sim-1a", "after")).ok());
}

TEST_F(SimFaults, InstanceDegradationIsPerInstance) {
  std::string a = LaunchRunning("sim-1a", "a");
  ASSERT_TRUE(sim_->DegradeInstance(a, 0.2, 300).ok());
  EXPECT_DOUBLE_EQ(Truth(a).error_ratio, 0.2);
  EXPECT_FALSE(Truth(a).healthy());
  EXPECT_EQ(sim_->DegradeInstance(a, 2, 0).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(sim_->DegradeInstance(a, 0, 0).ok());
  EXPECT_TRUE(Truth(a).healthy());
}

TEST_F(SimFaults, ZoneFailureAndRecovery) {
  std::string a = LaunchRunning("sim-1a", "a");
  ASSERT_TRUE(sim_->FailZone("sim-1a").ok());
  EXPECT_TRUE(Truth(a).host_failed);
  Result<InstanceInfo> r = Launch(Request("web", "sim-1a", "x"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "sim: Launch(web, sim-1a): zone unavailable");
  ASSERT_TRUE(sim_->RecoverZone("sim-1a").ok());
  EXPECT_TRUE(Truth(a).healthy());
  EXPECT_TRUE(Launch(Request("web", "sim-1a", "x")).ok());
  EXPECT_EQ(sim_->FailZone("sim-9z").code(), StatusCode::kNotFound);
}

TEST_F(SimFaults, CapacityShortageFailsLaunchesStartsAndRecoveries) {
  std::string a = LaunchRunning("sim-1a", "a");
  ASSERT_TRUE(Stop(a).ok());
  ASSERT_TRUE(sim_->SetCapacityShortage("sim-1a", true).ok());
  Result<InstanceInfo> r = Launch(Request("web", "sim-1a", "x"));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "sim: Launch(web, sim-1a): insufficient capacity");
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(Start(a).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Launch(Request("web", "sim-1b", "y")).ok()) << "other zones work";
  ASSERT_TRUE(sim_->SetCapacityShortage("sim-1a", false).ok());
  EXPECT_TRUE(Launch(Request("web", "sim-1a", "x")).ok());
  EXPECT_TRUE(Start(a).ok());
}

TEST_F(SimFaults, ThrottlingCarriesRetryAfter) {
  std::string a = LaunchRunning("sim-1a", "a");
  SimApiFaults f;
  f.throttle_rate = 1;
  f.retry_after = milliseconds(400);
  sim_->SetApiFaults(SimOp::kReboot, f);
  Status st = Reboot(a);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "sim: Reboot(" + a + "): request limit exceeded, retry in 400ms");
  ASSERT_TRUE(st.retry_after().has_value());
  EXPECT_EQ(*st.retry_after(), milliseconds(400));
  EXPECT_TRUE(Stop(a).ok()) << "only Reboot is throttled";
  EXPECT_EQ(sim_->counters(SimOp::kReboot).failed, 1u);
  sim_->ClearApiFaults();
  EXPECT_TRUE(Start(a).ok());
}

TEST_F(SimFaults, ApiErrorRateFailsAShareOfCalls) {
  SimApiFaults f;
  f.unavailable_rate = 0.25;
  sim_->SetApiFaults(f);
  int failed = 0;
  for (int k = 0; k < 400; ++k) {
    Result<std::vector<InstanceStatus>> r = Describe({"sim-000001"});
    if (!r.ok()) {
      ++failed;
      EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    }
  }
  EXPECT_GT(failed, 60);
  EXPECT_LT(failed, 140);
  EXPECT_EQ(sim_->counters(SimOp::kDescribeStatus).failed,
            static_cast<uint64_t>(failed));
}

TEST_F(SimFaults, OutageWindowFailsEveryCallUntilItEnds) {
  std::string a = LaunchRunning("sim-1a", "a");
  sim_->StartApiOutage(loop_.Now() + minutes(5));
  Result<InstanceInfo> r = Launch(Request("web", "sim-1a", "x"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "sim: Launch(web, sim-1a): API outage, retry later");
  EXPECT_EQ(Terminate(a).code(), StatusCode::kUnavailable);
  EXPECT_EQ(Describe({a}).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Truth(a).healthy()) << "nothing happened to the instance";
  EXPECT_EQ(sim_->instance_count(), 1u);
  loop_.RunFor(minutes(5));
  EXPECT_TRUE(Describe({a}).ok());
  sim_->StartApiOutage(loop_.Now() + hours(1));
  sim_->EndApiOutage();
  EXPECT_TRUE(Launch(Request("web", "sim-1a", "x")).ok());
}

TEST_F(SimFaults, TerminationBehindTheBackIsPushedAndLogged) {
  std::string a = LaunchRunning("sim-1a", "a");
  pushed_.clear();
  ASSERT_TRUE(sim_->TerminateBehindBack(a).ok());
  loop_.RunPosted();
  ASSERT_EQ(pushed_.size(), 1u);
  EXPECT_EQ(pushed_[0].lifecycle, Lifecycle::kTerminated);
  ASSERT_EQ(sim_->terminate_log().size(), 1u);
  EXPECT_FALSE(sim_->terminate_log()[0].by_api);
  EXPECT_EQ(sim_->counters(SimOp::kTerminate).calls, 0u);
  EXPECT_EQ(sim_->TerminateBehindBack(a).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SimFaults, TerminateLogTellsWhetherAHealthyInstanceWasKilled) {
  std::string healthy = LaunchRunning("sim-1a", "a");
  std::string broken = LaunchRunning("sim-1a", "b");
  ASSERT_TRUE(sim_->CrashInstance(broken).ok());
  ASSERT_TRUE(Terminate(broken).ok());
  ASSERT_TRUE(Terminate(healthy).ok());
  ASSERT_EQ(sim_->terminate_log().size(), 2u);
  EXPECT_FALSE(sim_->terminate_log()[0].before.healthy());
  EXPECT_TRUE(sim_->terminate_log()[0].before.crashed);
  EXPECT_TRUE(sim_->terminate_log()[1].before.healthy());
}

// A scripted run whose observable events are logged with their times.
std::vector<std::string> RunScript(uint64_t seed) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, seed);  // default config: latencies with jitter
  std::vector<std::string> log;
  auto stamp = [&] { return FormatDuration(loop.Now().time_since_epoch()); };
  sim.SetStatusSink([&](const InstanceStatus& s) {
    log.push_back(stamp() + " push " + s.id + " " +
                  std::string(ToString(s.lifecycle)));
  });
  SimApiFaults f;
  f.unavailable_rate = 0.2;
  f.throttle_rate = 0.1;
  sim.SetApiFaults(f);
  sim.DegradeZone("sim-1b", {0.1, 300, 0.3}).ok();
  for (int k = 0; k < 30; ++k) {
    LaunchRequest r;
    r.group = "web";
    r.zone = k % 2 ? "sim-1a" : "sim-1b";
    r.idempotency_token = "t" + std::to_string(k);
    sim.Launch(r, [&, k](Result<InstanceInfo> res) {
      log.push_back(stamp() + " launch " + std::to_string(k) + " " +
                    (res.ok() ? res->id : res.status().ToString()));
      if (res.ok() && k % 3 == 0) {
        sim.Terminate(res->id, [&](Status st) {
          log.push_back(stamp() + " terminate " + st.ToString());
        });
      }
    });
  }
  loop.RunUntilIdle();
  return log;
}

TEST(SimDeterminism, SameSeedSameEvents) {
  std::vector<std::string> a = RunScript(42);
  std::vector<std::string> b = RunScript(42);
  ASSERT_GT(a.size(), 30u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, RunScript(43));
}

TEST_F(SimFaults, PopulateFleetCreatesRunningInstancesAcrossZones) {
  SimPopulateRequest req;
  req.group = "bench";
  req.spec.image = "img";
  req.count = 7;
  Result<std::vector<InstanceInfo>> r = sim_->PopulateFleet(req);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 7u);
  EXPECT_EQ((*r)[0].id, "sim-000001");
  EXPECT_EQ((*r)[0].zone, "sim-1a");
  EXPECT_EQ((*r)[1].zone, "sim-1b");
  EXPECT_EQ((*r)[6].zone, "sim-1a");
  EXPECT_EQ((*r)[6].lifecycle, Lifecycle::kRunning);
  EXPECT_EQ((*r)[6].tags.at(std::string(kGroupTag)), "bench");
  EXPECT_EQ(sim_->Count("sim-1a", Lifecycle::kRunning), 3u);
  EXPECT_EQ(sim_->Count("", Lifecycle::kRunning), 7u);
  EXPECT_TRUE(pushed_.empty());
  EXPECT_EQ(sim_->counters(SimOp::kLaunch).calls, 0u);

  req.zones = {"sim-1q"};
  EXPECT_EQ(sim_->PopulateFleet(req).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SimScale, MillionInstancesPopulateAndDescribeInOnePass) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, 1);
  SimPopulateRequest req;
  req.group = "big";
  req.count = 1'000'000;
  Result<SimIndex> first = sim.PopulateFleetIndexes(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(sim.instance_count(), 1'000'000u);
  EXPECT_EQ(sim.IdOf(999'999), "sim-1000000");
  EXPECT_EQ(sim.IndexOf("sim-1000000"), std::optional<SimIndex>(999'999));
  ASSERT_TRUE(sim.FailHost("sim-1a-h000").ok());
  size_t impaired = 0;
  size_t total = 0;
  sim.DescribeStatus({}, [&](Result<std::vector<InstanceStatus>> r) {
    ASSERT_TRUE(r.ok());
    total = r->size();
    for (const InstanceStatus& s : *r) {
      impaired += s.system_check == CheckState::kImpaired;
    }
  });
  loop.RunUntilIdle();
  EXPECT_EQ(total, 1'000'000u);
  // 333,334 in sim-1a over 16 hosts, round robin: 20,834 on h000.
  EXPECT_EQ(impaired, 20'834u);
}

}  // namespace
}  // namespace lifeline
