#include "zones/sim_load_reporter.h"

#include <string>
#include <vector>

namespace lifeline {

SimLoadReporter::SimLoadReporter(Controller& controller, SimProvider& provider,
                                 Duration interval)
    : controller_(controller),
      provider_(provider),
      interval_(interval),
      alive_(std::make_shared<bool>(true)) {
  Tick();
}

SimLoadReporter::~SimLoadReporter() {
  *alive_ = false;
  if (timer_ != EventLoop::kNoTimer) controller_.loop().Cancel(timer_);
}

void SimLoadReporter::ReportNow() {
  std::vector<std::string> ids;
  ids.reserve(controller_.instances().size());
  for (const auto& [id, rec] : controller_.instances()) ids.push_back(id);
  MonoTime now = controller_.loop().Now();
  for (const auto& id : ids) {
    auto truth = provider_.GroundTruth(id);
    if (!truth || !truth->app_alive()) continue;  // a dead agent is silent
    LoadReport r;
    r.instance_id = id;
    r.error_ratio = truth->error_ratio;
    r.latency_ms = truth->latency_ms;
    r.at = now;
    controller_.OnLoadReport(r);
    ++reports_;
  }
}

void SimLoadReporter::Tick() {
  timer_ = EventLoop::kNoTimer;
  ReportNow();
  std::weak_ptr<bool> alive = alive_;
  timer_ = controller_.loop().RunAfter(interval_, [this, alive] {
    if (alive.lock()) Tick();
  });
}

}  // namespace lifeline
