// SimLoadReporter: the simulated agents' load reports. Every `interval` it
// reads the sim provider's ground truth of each instance the controller
// manages and, for those whose application is alive, hands the error ratio
// and latency an agent inside would report to Controller::OnLoadReport —
// the input the zone-impairment detector compares across zones. A gray
// failure (SimProvider::DegradeZone) thus reaches Lifeline the way it would
// in production: instances stay "healthy", their reports do not.
//
// Test and simulation utility. Thread-safety: none; runs on the SimLoop.
// The controller and provider must outlive it; the destructor stops it.
#pragma once

#include <memory>

#include "controller/controller.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

class SimLoadReporter {
 public:
  SimLoadReporter(Controller& controller, SimProvider& provider,
                  Duration interval = std::chrono::seconds(1));
  ~SimLoadReporter();
  SimLoadReporter(const SimLoadReporter&) = delete;
  SimLoadReporter& operator=(const SimLoadReporter&) = delete;

  // Reports once now (the timer keeps reporting every interval).
  void ReportNow();
  uint64_t reports() const { return reports_; }

 private:
  void Tick();

  Controller& controller_;
  SimProvider& provider_;
  Duration interval_;
  uint64_t reports_ = 0;
  EventLoop::TimerId timer_ = EventLoop::kNoTimer;
  std::shared_ptr<bool> alive_;
};

}  // namespace lifeline
