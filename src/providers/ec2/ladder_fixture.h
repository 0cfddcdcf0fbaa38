// Ec2LadderTest: the real Controller (recovery ladder, capacity reconcile,
// safety governor) driving Ec2Provider against moto_server, on a RealLoop
// thread (Ec2MotoTest gives the loop, the provider and the AWS CLI).
//
// Each test gets a fresh VPC with one subnet per zone and a security group,
// so "replaced with the same spec" can be checked field by field. Time runs
// on the real clock with short controller timings; tests wait for
// observable conditions (the controller's view, read on the loop thread, and
// moto's, through the provider and the AWS CLI) with deadlines, polling on
// loop timers. Controller state is only touched on the loop thread.
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "history/history.h"
#include "providers/ec2/moto_fixture.h"

namespace lifeline::ec2 {

inline constexpr char kZoneA[] = "us-east-1a";
inline constexpr char kZoneB[] = "us-east-1b";

class Ec2LadderTest : public Ec2MotoTest {
 protected:
  // What the controller believes, copied on the loop thread.
  struct View {
    bool ready = false;
    size_t workflows = 0;
    std::vector<std::string> healthy_active;  // active, running, healthy
    size_t members = 0;                       // every record of the group
    ControllerStats stats;
  };

  void SetUp() override {
    Ec2MotoTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    vpc_ = Aws("create-vpc --cidr-block 10.7.0.0/16 --query Vpc.VpcId");
    subnet_a_ = Aws("create-subnet --vpc-id " + vpc_ +
                    " --cidr-block 10.7.1.0/24 --availability-zone " + kZoneA +
                    " --query Subnet.SubnetId");
    subnet_b_ = Aws("create-subnet --vpc-id " + vpc_ +
                    " --cidr-block 10.7.2.0/24 --availability-zone " + kZoneB +
                    " --query Subnet.SubnetId");
    sg_ =
        Aws("create-security-group --group-name lifeline-web --description "
            "web --vpc-id " +
            vpc_ + " --query GroupId");
    ASSERT_EQ(sg_.rfind("sg-", 0), 0u) << sg_;
    ASSERT_EQ(subnet_a_.rfind("subnet-", 0), 0u) << subnet_a_;
  }

  void TearDown() override {
    if (HasFailure() && loop_) DumpHistory();
    if (loop_) OnLoop([this] { controller_.reset(); });
    Ec2MotoTest::TearDown();
  }

  // Short timings so that a failure is detected and repaired in seconds.
  // The safety governor stays fully on: its cold-start grace is shortened,
  // not disabled (the tests wait until it has passed).
  static ControllerConfig FastConfig() {
    ControllerConfig c;
    c.status_poll_interval = milliseconds(250);
    c.reconcile_interval = seconds(1);
    c.inventory_interval = seconds(1);
    c.recovery_stable = seconds(1);
    c.safety.cold_start_grace = seconds(2);
    // As lifelined does: a fresh journal numbers its workflows (and so its
    // launch tokens, EC2 ClientTokens) from a random base.
    c.first_workflow_id = 1'000'000'000ULL + std::random_device{}();
    // Under a loaded CI machine (sanitizers, moto in Python) the loop can
    // lag; only the daemon reports stalls, so the threshold is moot here.
    return c;
  }

  // Three instances over two zones, each in its zone's subnet with the
  // group's security group. Only provider checks count (moto instances run
  // no agent). The instance ladder starts a stopped instance (the reboot
  // rung does that) before replacing it.
  GroupSpec WebSpec() const {
    GroupSpec g;
    g.name = "web";
    g.desired = 3;
    g.min = 0;
    g.max = 6;
    g.zones = {kZoneA, kZoneB};
    g.launch.image = image_;
    g.launch.instance_type = "t3.micro";
    g.launch.security_groups = {sg_};
    g.launch.subnet_by_zone = {{kZoneA, subnet_a_}, {kZoneB, subnet_b_}};
    g.launch.tags = {{"team", "payments"}};
    g.launch.volumes = {{"/dev/sdf", 10, false, false}};
    g.grace_period = seconds(1);
    g.check_application = false;
    g.ladder.instance = {
        {RecoveryAction::kReboot, 1, std::chrono::hours(1), seconds(20)},
        {RecoveryAction::kReplace, 3, std::chrono::hours(1), seconds(30)}};
    g.backoff.initial = milliseconds(100);
    g.backoff.max = seconds(2);
    g.replacement_timeout = seconds(40);
    g.call_timeout = seconds(30);
    return g;
  }

  // The group whose instance ladder replaces at once (a stopped instance
  // is replaced, make-before-break, rather than started again).
  GroupSpec ReplaceFirstSpec() const {
    GroupSpec g = WebSpec();
    g.ladder.instance = {
        {RecoveryAction::kReplace, 3, std::chrono::hours(1), seconds(30)}};
    return g;
  }

  // A controller as the daemon wires it: the provider, a history, a journal
  // (fresh unless one is handed in), the group applied before Start().
  void Boot(const GroupSpec& spec, MemoryJournal* journal = nullptr) {
    OnLoop([&] {
      controller_.reset();
      if (journal == nullptr) {
        journal_ = std::make_unique<MemoryJournal>();
        journal = journal_.get();
      }
      controller_ = std::make_unique<Controller>(*loop_, *provider_, history_,
                                                 FastConfig(), journal);
      Status s = controller_->ApplyGroup(spec, "test");
      ASSERT_TRUE(s.ok()) << s.ToString();
      controller_->Start();
    });
  }

  View Look() {
    View v;
    OnLoop([&] {
      if (!controller_) return;
      v.ready = controller_->ready();
      v.workflows = controller_->workflows().size();
      v.stats = controller_->stats();
      for (const InstanceRecord* r : controller_->GroupInstances("web")) {
        ++v.members;
        if (r->role == InstanceRole::kActive &&
            r->info.lifecycle == Lifecycle::kRunning && !r->verdict.unhealthy) {
          v.healthy_active.push_back(r->info.id);
        }
      }
      std::sort(v.healthy_active.begin(), v.healthy_active.end());
    });
    return v;
  }

  // The group's live instances as EC2 reports them (by tag).
  std::vector<InstanceInfo> Live() {
    auto r = Call<std::vector<InstanceInfo>>([this](auto done) {
      provider_->ListInstances("web", std::move(done));
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<InstanceInfo>{};
  }
  std::set<std::string> LiveRunningIds() {
    std::set<std::string> ids;
    for (const InstanceInfo& i : Live()) {
      if (i.lifecycle == Lifecycle::kRunning) ids.insert(i.id);
    }
    return ids;
  }

  // Polls pred every 100 ms (a loop timer) until it holds or `limit`
  // passes.
  bool Eventually(const std::function<bool()>& pred,
                  Duration limit = seconds(90)) {
    const MonoTime deadline = clock_.Now() + limit;
    while (!pred()) {
      if (clock_.Now() >= deadline) return false;
      OnTimer(milliseconds(100));
    }
    return true;
  }

  // The group is whole and quiet: `n` healthy active instances in the
  // controller, no workflow, and exactly those `n` running in EC2.
  bool Settled(size_t n) {
    View v = Look();
    if (!v.ready || v.workflows != 0 || v.healthy_active.size() != n ||
        v.members != n) {
      return false;
    }
    std::set<std::string> live = LiveRunningIds();
    return live == std::set<std::string>(v.healthy_active.begin(),
                                         v.healthy_active.end()) &&
           Live().size() == n;
  }
  std::vector<std::string> WaitSettled(size_t n, Duration limit = seconds(90)) {
    EXPECT_TRUE(Eventually([&] { return Settled(n); }, limit))
        << "group did not settle at " << n << " instances";
    return Look().healthy_active;
  }

  // The governor's cold-start grace has passed and it has a fresh view:
  // waits until a decision would be allowed (probed without spending).
  void WaitPastColdStart() {
    ASSERT_TRUE(Eventually([&] {
      bool open = false;
      OnLoop([&] {
        SafetyRequest probe;
        probe.group = "web";
        probe.zone = kZoneA;
        probe.instance = "probe";
        probe.signals = {"instance_check"};
        probe.group_size = 3;
        open =
            controller_->governor().Decide(probe, /*consume=*/false).allowed();
      });
      return open;
    }));
  }

  bool HasEvent(const std::string& type, const std::string& instance = "") {
    bool found = false;
    OnLoop([&] {
      for (const HistoryEvent& e : history_.Query({})) {
        if (e.type == type && (instance.empty() || e.instance == instance)) {
          found = true;
        }
      }
    });
    return found;
  }

  void DumpHistory() {
    OnLoop([&] {
      for (const HistoryEvent& e : history_.Query({})) {
        std::printf("  %-26s %-20s %s [%s]\n", e.type.c_str(),
                    e.instance.c_str(), e.message.c_str(), e.rule.c_str());
      }
    });
  }

  std::string Describe(const std::string& id, const std::string& query) {
    return Aws("describe-instances --instance-ids " + id +
               " --query 'Reservations[0].Instances[0]." + query + "'");
  }

  std::string vpc_, subnet_a_, subnet_b_, sg_;
  MemoryHistory history_;
  std::unique_ptr<MemoryJournal> journal_;
  std::unique_ptr<Controller> controller_;
};

}  // namespace lifeline::ec2
