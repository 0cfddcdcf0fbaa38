#include "provider/fault_injecting_provider.h"

#include <gtest/gtest.h>

#include <optional>

#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {
namespace {

// Fixed latencies: launch 1s, terminate 2s, describe 100ms, boot 10s.
SimConfig Fixed() {
  SimConfig c = DefaultSimConfig();
  for (auto& l : c.latency) l.jitter = Duration(0);
  c.latency_of(SimOp::kLaunch).base = seconds(1);
  c.latency_of(SimOp::kBoot).base = seconds(10);
  c.latency_of(SimOp::kTerminate).base = seconds(2);
  c.latency_of(SimOp::kDescribeStatus).base = milliseconds(100);
  return c;
}

class FaultInjectingProviderTest : public ::testing::Test {
 protected:
  FaultInjectingProviderTest()
      : loop_(clock_), sim_(loop_, 1, Fixed()), fault_(sim_, loop_, Rng(9)) {}

  static LaunchRequest Request(const std::string& token) {
    LaunchRequest r;
    r.group = "web";
    r.zone = "sim-1a";
    r.idempotency_token = token;
    return r;
  }
  std::optional<Result<InstanceInfo>> LaunchAndRun(const std::string& token) {
    std::optional<Result<InstanceInfo>> got;
    fault_.Launch(Request(token),
                  [&](Result<InstanceInfo> r) { got = std::move(r); });
    loop_.RunUntilIdle();
    return got;
  }
  std::optional<Status> TerminateAndRun(const std::string& id) {
    std::optional<Status> got;
    fault_.Terminate(id, [&](Status st) { got = st; });
    loop_.RunUntilIdle();
    return got;
  }

  SimClock clock_;
  SimLoop loop_;
  SimProvider sim_;
  FaultInjectingProvider fault_;
};

TEST_F(FaultInjectingProviderTest, PassesCallsThroughWithoutRules) {
  EXPECT_EQ(fault_.name(), "fault(sim)");
  auto got = LaunchAndRun("t");
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ((*got)->id, "sim-000001");
  EXPECT_EQ(sim_.GroundTruth("sim-000001")->lifecycle, Lifecycle::kRunning);
  auto st = TerminateAndRun("sim-000001");
  ASSERT_TRUE(st && st->ok());
  EXPECT_EQ(fault_.counters(ProviderOp::kLaunch).calls, 1u);
  EXPECT_EQ(fault_.counters(ProviderOp::kLaunch).forwarded, 1u);
  EXPECT_EQ(fault_.counters(ProviderOp::kTerminate).forwarded, 1u);
  EXPECT_EQ(sim_.counters(SimOp::kTerminate).calls, 1u);
}

TEST_F(FaultInjectingProviderTest, InjectedErrorsAreNotForwarded) {
  ASSERT_TRUE(LaunchAndRun("t")->ok());
  FaultRule rule;
  rule.op = ProviderOp::kTerminate;
  rule.error_rate = 1;
  rule.error_code = StatusCode::kResourceExhausted;
  rule.retry_after = milliseconds(300);
  fault_.AddRule(rule);

  std::optional<Status> got;
  fault_.Terminate("sim-000001", [&](Status st) { got = st; });
  EXPECT_FALSE(got) << "never completes inside the call";
  loop_.RunPosted();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(got->message(),
            "fault: Terminate(sim-000001): injected RESOURCE_EXHAUSTED");
  EXPECT_EQ(got->retry_after(), std::optional(milliseconds(300)));
  EXPECT_EQ(sim_.counters(SimOp::kTerminate).calls, 0u);
  EXPECT_EQ(sim_.GroundTruth("sim-000001")->lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(fault_.counters(ProviderOp::kTerminate).injected_errors, 1u);

  // Other operations are untouched; clearing the rules heals.
  ASSERT_TRUE(LaunchAndRun("u")->ok());
  fault_.ClearRules();
  ASSERT_TRUE(TerminateAndRun("sim-000001")->ok());
}

TEST_F(FaultInjectingProviderTest, AddedLatencyDelaysTheCompletion) {
  FaultRule rule;
  rule.op = ProviderOp::kLaunch;
  rule.added_latency = seconds(5);
  fault_.AddRule(rule);
  FaultRule every;
  every.added_latency = seconds(1);
  fault_.AddRule(every);
  MonoTime start = loop_.Now();
  std::optional<MonoTime> answered;
  fault_.Launch(Request("t"), [&](Result<InstanceInfo> r) {
    EXPECT_TRUE(r.ok());
    answered = loop_.Now();
  });
  loop_.RunUntilIdle();
  ASSERT_TRUE(answered);
  EXPECT_EQ(*answered - start, seconds(1 + 5 + 1));
  EXPECT_EQ(fault_.counters(ProviderOp::kLaunch).delayed, 1u);
}

TEST_F(FaultInjectingProviderTest, DroppedResponseStillLetsTheOperationHappen) {
  FaultRule rule;
  rule.op = ProviderOp::kLaunch;
  rule.drop_rate = 1;
  fault_.AddRule(rule);
  auto got = LaunchAndRun("t");
  EXPECT_FALSE(got) << "the caller never hears back";
  EXPECT_EQ(fault_.counters(ProviderOp::kLaunch).dropped, 1u);
  // The cloud did launch it: an orphan unless the caller retries its token.
  EXPECT_EQ(sim_.instance_count(), 1u);
  fault_.ClearRules();
  auto retry = LaunchAndRun("t");
  ASSERT_TRUE(retry && retry->ok());
  EXPECT_EQ((*retry)->id, "sim-000001");
  EXPECT_EQ(sim_.instances_created(), 1u);
}

TEST_F(FaultInjectingProviderTest, OutageWindowFailsCallsInsideIt) {
  MonoTime t0 = loop_.Now();
  fault_.SetOutage(t0 + minutes(1), t0 + minutes(2));
  ASSERT_TRUE(LaunchAndRun("a")->ok());
  loop_.RunUntil(t0 + minutes(1));
  auto inside = LaunchAndRun("b");
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(inside->status().message(),
            "fault: Launch(web, sim-1a): injected outage for another 1m");
  loop_.RunUntil(t0 + minutes(2));
  EXPECT_TRUE(LaunchAndRun("b")->ok());
  fault_.SetOutage(loop_.Now(), loop_.Now() + hours(1));
  fault_.ClearOutage();
  EXPECT_TRUE(LaunchAndRun("c")->ok());
}

std::vector<bool> Outcomes(uint64_t seed) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, 1, Fixed());
  FaultInjectingProvider fault(sim, loop, Rng(seed));
  FaultRule rule;
  rule.error_rate = 0.3;
  rule.latency_jitter = seconds(1);
  fault.AddRule(rule);
  std::vector<bool> out;
  for (int k = 0; k < 200; ++k) {
    fault.DescribeStatus({}, [&](Result<std::vector<InstanceStatus>> r) {
      out.push_back(r.ok());
    });
  }
  loop.RunUntilIdle();
  return out;
}

TEST(FaultInjectingProvider, ErrorRateIsDeterministicBySeed) {
  std::vector<bool> a = Outcomes(5);
  ASSERT_EQ(a.size(), 200u);
  EXPECT_EQ(a, Outcomes(5));
  EXPECT_NE(a, Outcomes(6));
  long failures = std::count(a.begin(), a.end(), false);
  EXPECT_GT(failures, 30);
  EXPECT_LT(failures, 90);
}

TEST_F(FaultInjectingProviderTest, StatusPushesPassThrough) {
  std::vector<InstanceStatus> pushed;
  fault_.SetStatusSink([&](const InstanceStatus& s) { pushed.push_back(s); });
  ASSERT_TRUE(LaunchAndRun("t")->ok());
  ASSERT_TRUE(sim_.CrashInstance("sim-000001").ok());
  loop_.RunPosted();
  ASSERT_EQ(pushed.size(), 2u);  // running, then impaired
  EXPECT_EQ(pushed[1].instance_check, CheckState::kImpaired);
}

}  // namespace
}  // namespace lifeline
