// Out-of-cycle status checks of suspect instances (ControllerConfig::
// suspect_check_interval): heartbeat suspicion makes the controller ask the
// provider at once, so a stopped or impaired instance is repaired on its
// instance check without waiting for the next status poll.
#include "controller/fleet_fixture.h"
#include "provider/forwarding_provider.h"

namespace lifeline {
namespace {

// A provider that reports status only when asked (as EC2 does): the
// simulated cloud's pushes are dropped.
class PollOnlyProvider final : public ForwardingProvider {
 public:
  using ForwardingProvider::ForwardingProvider;
  void SetStatusSink(StatusSink) override {}
  void DescribeStatus(const std::vector<std::string>& ids,
                      Done<std::vector<InstanceStatus>> done) override {
    ++describes;
    ForwardingProvider::DescribeStatus(ids, std::move(done));
  }
  int describes = 0;
};

class StatusCheckTest : public FleetTest {
 protected:
  StatusCheckTest() : poll_only_(provider_) {
    // One poll at start, the next long after each test ends.
    config_.status_poll_interval = minutes(10);
  }
  GroupSpec Checked() {
    GroupSpec g = Web(6);
    g.check_application = true;
    return g;
  }
  // Boots, lets the group settle past its grace, stops one instance the
  // way a guest shuts itself down, and returns it.
  std::string BootAndStopOne() {
    Boot(Checked(), nullptr, &poll_only_);
    Run(minutes(3));
    const std::string victim = ActiveIds()[0];
    EXPECT_TRUE(provider_.CrashInstance(victim, CrashKind::kStopped).ok());
    return victim;
  }
  Lifecycle Believed(const std::string& id) {
    const InstanceRecord* r = controller_->instance(id);
    return r ? r->info.lifecycle : Lifecycle::kTerminated;
  }
  PollOnlyProvider poll_only_;
};

TEST_F(StatusCheckTest,
       SuspicionBringsAStatusCheckThatFindsTheStoppedInstance) {
  const std::string victim = BootAndStopOne();
  const int describes = poll_only_.describes;
  Run(seconds(1));
  // Heartbeats went silent (suspect after 200 ms): the provider was asked at
  // once, long before the next poll, and said the instance is stopped.
  EXPECT_EQ(poll_only_.describes, describes + 1);
  EXPECT_EQ(controller_->stats().status_checks, 1u);
  EXPECT_EQ(Believed(victim), Lifecycle::kStopped);
  // Started (the simulated guest boots in about 15 s), checked again once
  // it answers, and stable for recovery_stable: all without a poll.
  Run(seconds(40));
  EXPECT_GE(controller_->stats().status_checks, 2u);
  EXPECT_GE(provider_.counters(SimOp::kStart).succeeded, 1u);
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u)
      << "a stopped instance is started, not rebooted";
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
}

TEST_F(StatusCheckTest, WithoutTheCheckTheStopIsUnknownUntilTheNextPoll) {
  config_.suspect_check_interval = Duration::zero();
  const std::string victim = BootAndStopOne();
  const int describes = poll_only_.describes;
  Run(seconds(1));
  EXPECT_EQ(poll_only_.describes, describes);
  EXPECT_EQ(controller_->stats().status_checks, 0u);
  EXPECT_NE(Believed(victim), Lifecycle::kStopped);
}

TEST_F(StatusCheckTest, ASilentButRunningInstanceIsCheckedOncePerInterval) {
  Boot(Checked(), nullptr, &poll_only_);
  Run(minutes(3));
  const std::string victim = ActiveIds()[0];
  const int describes = poll_only_.describes;
  ASSERT_TRUE(provider_.HangApplication(victim).ok());
  Run(milliseconds(900));
  // Suspect, then failed from silence, within one interval: one check, and
  // the provider sees the instance running (the hang is the app's own).
  EXPECT_EQ(controller_->stats().status_checks, 1u);
  EXPECT_EQ(poll_only_.describes, describes + 1);
  EXPECT_EQ(Believed(victim), Lifecycle::kRunning);
  EXPECT_TRUE(HasEvent("instance.unhealthy", victim));
}

// Holds DescribeStatus answers (as a slow API would) until released.
class SlowStatusProvider final : public ForwardingProvider {
 public:
  using ForwardingProvider::ForwardingProvider;
  void DescribeStatus(const std::vector<std::string>& ids,
                      Done<std::vector<InstanceStatus>> done) override {
    if (!hold) return ForwardingProvider::DescribeStatus(ids, std::move(done));
    ForwardingProvider::DescribeStatus(
        ids, [this, done = std::move(done)](
                 Result<std::vector<InstanceStatus>> r) mutable {
          held.emplace_back(std::move(r), std::move(done));
        });
  }
  void Release() {
    auto answers = std::move(held);
    held.clear();
    for (auto& [r, done] : answers) done(std::move(r));
  }
  bool hold = false;
  std::vector<std::pair<Result<std::vector<InstanceStatus>>,
                        Done<std::vector<InstanceStatus>>>>
      held;
};

TEST_F(FleetTest, AStatusAnswerOlderThanAPushIsNotTakenIn) {
  SlowStatusProvider slow(provider_);
  config_.status_poll_interval = seconds(10);
  Boot(Web(6), nullptr, &slow);
  Run(minutes(3));
  const std::string victim = ActiveIds()[0];
  slow.hold = true;
  Run(seconds(11));  // a poll is asked and answered "running"; held
  ASSERT_FALSE(slow.held.empty());
  slow.hold = false;
  ASSERT_TRUE(provider_.CrashInstance(victim, CrashKind::kStopped).ok());
  Run(milliseconds(10));  // the push: stopped
  ASSERT_EQ(controller_->instance(victim)->info.lifecycle, Lifecycle::kStopped);
  slow.Release();  // the older answer arrives after it
  EXPECT_EQ(controller_->instance(victim)->info.lifecycle, Lifecycle::kStopped)
      << "a stale 'running' overwrote the newer 'stopped'";
}

}  // namespace
}  // namespace lifeline
