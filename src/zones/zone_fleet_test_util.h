// Test fixture for the zone features: a controller over the sim provider
// with simulated heartbeats and load reports, in simulated time.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"
#include "testing/sim_heartbeats.h"
#include "zones/sim_load_reporter.h"
#include "zones/zonal_shift.h"

namespace lifeline {

class ZoneFleetTest : public ::testing::Test {
 protected:
  ZoneFleetTest() : ZoneFleetTest(DefaultSimConfig()) {}
  explicit ZoneFleetTest(SimConfig sim)
      : loop_(clock_), provider_(loop_, 11, std::move(sim)) {
    config_.safety.cold_start_grace = std::chrono::seconds(30);
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
    g.grace_period = std::chrono::seconds(60);
    g.check_application = true;
    g.safety.actions_per_minute = 120;
    g.safety.burst = 20;
    return g;
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& e : history_.Query({})) {
      std::printf("  %s %-26s %-8s %-12s %s [%s]\n",
                  FormatWallTime(e.at).c_str(), e.type.c_str(), e.zone.c_str(),
                  e.instance.c_str(), e.message.c_str(), e.rule.c_str());
    }
  }

  void Boot(const GroupSpec& g) {
    controller_ = std::make_unique<Controller>(loop_, provider_, history_,
                                               config_, &journal_);
    heartbeats_ =
        std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
    ASSERT_TRUE(controller_->ApplyGroup(g).ok());
    controller_->Start();
    shifts_ = std::make_unique<ZonalShiftManager>(
        *controller_,
        [this](const std::string&,
               const std::string& zone) -> std::optional<int> {
          auto it = zone_capacity_.find(zone);
          if (it == zone_capacity_.end()) return std::nullopt;
          return it->second;
        });
    reporter_ = std::make_unique<SimLoadReporter>(*controller_, provider_);
  }

  void Run(Duration d) {
    loop_.RunFor(d);
    ASSERT_TRUE(controller_->CheckAccounting().ok())
        << controller_->CheckAccounting().ToString();
  }

  int Live(const std::string& zone) const {
    return static_cast<int>(provider_.Count(zone, Lifecycle::kRunning) +
                            provider_.Count(zone, Lifecycle::kPending));
  }

  // Active instances per zone, in the controller's view.
  int Active(const std::string& zone) const {
    auto counts = controller_->ZoneCountsOf("web");
    auto it = counts.find(zone);
    return it == counts.end() ? 0 : it->second.active;
  }

  std::vector<std::string> ActiveIn(const std::string& zone) const {
    std::vector<std::string> out;
    for (const auto* r : controller_->GroupInstances("web")) {
      if (r->role == InstanceRole::kActive && r->info.zone == zone) {
        out.push_back(r->info.id);
      }
    }
    return out;
  }

  std::vector<HistoryEvent> Events(const std::string& type) const {
    HistoryQuery q;
    q.type_prefix = type;
    return history_.Query(q);
  }

  // Launch calls made into a zone (from the history's action records).
  int LaunchesInto(const std::string& zone) const {
    int n = 0;
    for (const auto& e : Events("action.started")) {
      if (e.message.rfind("Launch(web, " + zone + ",", 0) == 0) ++n;
    }
    return n;
  }

  SimClock clock_;
  SimLoop loop_;
  SimProvider provider_;
  MemoryHistory history_;
  MemoryJournal journal_;
  ControllerConfig config_;
  std::map<std::string, int> zone_capacity_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<SimHeartbeats> heartbeats_;
  std::unique_ptr<ZonalShiftManager> shifts_;
  std::unique_ptr<SimLoadReporter> reporter_;
};

}  // namespace lifeline
