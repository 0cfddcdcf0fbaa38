// JSON views of the controller's state for API responses. Functions that
// take a Controller read it and so must run on its loop thread (inside
// ApiBackend::RunOnLoop); the others are pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "controller/controller.h"
#include "history/history.h"
#include "zones/zonal_shift.h"

namespace lifeline {

// "healthy", "unhealthy" or "suspect", from the verdict.
std::string HealthOf(const InstanceRecord& rec);

// One instance. `detail` adds checks, verdict, volumes, addresses and tags.
nlohmann::json InstanceView(const InstanceRecord& rec, MonoTime now,
                            bool detail);
nlohmann::json WorkflowView(const Workflow& wf, MonoTime now);
nlohmann::json EventView(const HistoryEvent& e);
nlohmann::json PlannedActionView(const PlannedAction& a);
nlohmann::json ShiftView(const ZonalShift& s);
// Loop thread: a group's summary (capacity, per-zone counts, shifted
// zones, freeze). Returns null for an unknown group.
nlohmann::json GroupSummaryView(Controller& c, const std::string& name);

}  // namespace lifeline
