#include "controller/health.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

HealthInputs Running() {
  HealthInputs in;
  in.lifecycle = Lifecycle::kRunning;
  in.system_check = CheckState::kOk;
  in.instance_check = CheckState::kOk;
  in.check_application = true;
  in.app = AppHealth::kOk;
  return in;
}

TEST(Health, RunningWithPassingChecksIsHealthyAndReady) {
  HealthVerdict v = EvaluateHealth(Running());
  EXPECT_FALSE(v.unhealthy);
  EXPECT_FALSE(v.suspect);
  EXPECT_TRUE(ReadyForService(Running()));
}

TEST(Health, SystemCheckWinsOverInstanceCheck) {
  HealthInputs in = Running();
  in.system_check = CheckState::kImpaired;
  in.instance_check = CheckState::kImpaired;
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.kind, FailureKind::kSystem);
  EXPECT_EQ(v.signals, std::vector<std::string>{"system_check"});
}

TEST(Health, GracePeriodHidesFailuresButNotTermination) {
  HealthInputs in = Running();
  in.in_grace = true;
  in.instance_check = CheckState::kImpaired;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
  in.lifecycle = Lifecycle::kTerminated;
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.kind, FailureKind::kLost);
}

TEST(Health, OurOwnStopsAndTerminationsAreNotFailures) {
  HealthInputs in = Running();
  in.lifecycle = Lifecycle::kStopped;
  EXPECT_TRUE(EvaluateHealth(in).unhealthy);
  in.stopped_by_us = true;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
  in.lifecycle = Lifecycle::kTerminated;
  in.terminated_by_us = true;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
}

TEST(Health, SuspectIsNotUnhealthy) {
  HealthInputs in = Running();
  in.app = AppHealth::kSuspect;
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_FALSE(v.unhealthy);
  EXPECT_TRUE(v.suspect);
}

TEST(Health, ApplicationFailureNamesItsSource) {
  HealthInputs in = Running();
  in.app = AppHealth::kFailed;
  in.app_source = "agent";
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.kind, FailureKind::kApplication);
  EXPECT_EQ(v.signals, std::vector<std::string>{"agent"});
  in.check_application = false;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
}

TEST(Health, OperatorOpinionOverridesSignals) {
  HealthInputs in = Running();
  in.operator_healthy = false;
  in.operator_reason = "bad deploy";
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.signals, std::vector<std::string>{"operator"});
  in.operator_healthy = true;
  in.instance_check = CheckState::kImpaired;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
}

TEST(Health, AdoptionForgivesSilenceButNotAnImpairedCheck) {
  HealthInputs in = Running();
  in.app = AppHealth::kUnknown;
  in.in_app_grace = true;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy) << "not heard from yet";
  in.instance_check = CheckState::kImpaired;
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.kind, FailureKind::kInstance);
  EXPECT_EQ(v.signals, std::vector<std::string>{"instance_check"});
}

TEST(Health, NeverHeardFromAfterGraceIsAFailure) {
  HealthInputs in = Running();
  in.app = AppHealth::kUnknown;
  in.in_grace = true;
  EXPECT_FALSE(EvaluateHealth(in).unhealthy);
  in.in_grace = false;
  HealthVerdict v = EvaluateHealth(in);
  EXPECT_TRUE(v.unhealthy);
  EXPECT_EQ(v.kind, FailureKind::kApplication);
  EXPECT_EQ(v.signals, std::vector<std::string>{"heartbeat"});
}

TEST(Health, NotReadyUntilHeardFrom) {
  HealthInputs in = Running();
  in.app = AppHealth::kUnknown;
  EXPECT_FALSE(ReadyForService(in));
  in.check_application = false;
  EXPECT_TRUE(ReadyForService(in));
  in.lifecycle = Lifecycle::kPending;
  EXPECT_FALSE(ReadyForService(in));
}

}  // namespace
}  // namespace lifeline
