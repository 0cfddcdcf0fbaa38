// FleetTest: the controller core against the simulated cloud with
// simulated heartbeats, in simulated time, for whole-group tests. Single
// threaded; the journal is a MemoryJournal unless a test passes its own.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"
#include "testing/sim_heartbeats.h"

namespace lifeline {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class FleetTest : public ::testing::Test {
 protected:
  FleetTest() : loop_(clock_), provider_(loop_, 7, DefaultSimConfig()) {
    config_.safety.cold_start_grace = seconds(30);
  }

  static GroupSpec Web(int desired) {
    GroupSpec g;
    g.name = "web";
    g.desired = desired;
    g.min = 0;
    g.max = 30;
    g.zones = {"sim-1a", "sim-1b", "sim-1c"};
    g.launch.image = "img-1";
    g.launch.instance_type = "m5.large";
    g.grace_period = seconds(60);
    g.safety.actions_per_minute = 120;
    g.safety.burst = 20;
    return g;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& e : history_.Query({})) {
      std::printf("  %s %-24s %-12s %s [%s]\n", FormatWallTime(e.at).c_str(),
                  e.type.c_str(), e.instance.c_str(), e.message.c_str(),
                  e.rule.c_str());
    }
  }

  // `provider` (a wrapper of provider_) stands between the controller and
  // the simulated cloud when given.
  void Boot(const GroupSpec& g, Journal* journal = nullptr,
            Provider* provider = nullptr) {
    controller_ = std::make_unique<Controller>(
        loop_, provider ? *provider : provider_, history_, config_,
        journal ? journal : &journal_);
    heartbeats_ =
        std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
    ASSERT_TRUE(controller_->ApplyGroup(g).ok());
    controller_->Start();
  }

  void Run(Duration d) {
    loop_.RunFor(d);
    ASSERT_TRUE(controller_->CheckAccounting().ok())
        << controller_->CheckAccounting().ToString();
  }

  // Live (non-terminated) instances in the provider, per zone.
  int Live(const std::string& zone) const {
    return static_cast<int>(provider_.Count(zone, Lifecycle::kRunning) +
                            provider_.Count(zone, Lifecycle::kPending));
  }
  int LiveTotal() const { return Live(""); }

  std::vector<std::string> ActiveIds() const {
    std::vector<std::string> out;
    for (const auto* r : controller_->GroupInstances("web")) {
      if (r->role == InstanceRole::kActive) out.push_back(r->info.id);
    }
    return out;
  }

  bool HasEvent(const std::string& type, const std::string& instance = "") {
    HistoryQuery q;
    q.type_prefix = type;
    if (!instance.empty()) q.instance = instance;
    return !history_.Query(q).empty();
  }

  // Every instance the provider runs is known to the controller.
  void ExpectNoOrphans() {
    for (const auto& id : provider_.InstanceIds(/*include_terminated=*/false)) {
      EXPECT_NE(controller_->instance(id), nullptr) << "orphan " << id;
    }
  }

  void ExpectAllHealthy(int desired) {
    auto ids = ActiveIds();
    EXPECT_EQ(static_cast<int>(ids.size()), desired);
    for (const auto& id : ids) {
      auto t = provider_.GroundTruth(id);
      ASSERT_TRUE(t.has_value());
      EXPECT_TRUE(t->app_alive()) << id;
      EXPECT_FALSE(controller_->instance(id)->verdict.unhealthy) << id;
    }
  }

  SimClock clock_;
  SimLoop loop_;
  SimProvider provider_;
  MemoryHistory history_;
  MemoryJournal journal_;
  ControllerConfig config_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<SimHeartbeats> heartbeats_;
};

}  // namespace lifeline
