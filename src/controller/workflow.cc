#include "controller/workflow.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace lifeline {

namespace {
constexpr std::array<std::pair<WorkflowState, std::string_view>, 13> kStates{{
    {WorkflowState::kAwaitingApproval, "awaiting_approval"},
    {WorkflowState::kRebooting, "rebooting"},
    {WorkflowState::kRecovering, "recovering"},
    {WorkflowState::kVerifying, "verifying"},
    {WorkflowState::kSnapshotting, "snapshotting"},
    {WorkflowState::kLaunching, "launching"},
    {WorkflowState::kAwaitingReplacement, "awaiting_replacement"},
    {WorkflowState::kFencing, "fencing"},
    {WorkflowState::kMovingResources, "moving_resources"},
    {WorkflowState::kTerminatingOld, "terminating_old"},
    {WorkflowState::kCleaningUp, "cleaning_up"},
    {WorkflowState::kSucceeded, "succeeded"},
    {WorkflowState::kFailed, "failed"},
}};
}  // namespace

std::string_view ToString(WorkflowKind k) {
  switch (k) {
    case WorkflowKind::kRecovery: return "recovery";
    case WorkflowKind::kLaunch: return "launch";
    case WorkflowKind::kScaleIn: return "scale_in";
  }
  return "unknown";
}

std::string_view ToString(WorkflowState s) {
  for (const auto& [v, n] : kStates) {
    if (v == s) return n;
  }
  return "unknown";
}

bool ParseWorkflowState(std::string_view s, WorkflowState* out) {
  for (const auto& [v, n] : kStates) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool IsTerminal(WorkflowState s) {
  return s == WorkflowState::kSucceeded || s == WorkflowState::kFailed;
}

std::string WorkflowToJson(const Workflow& w) {
  nlohmann::json j;
  j["id"] = w.id;
  j["kind"] = ToString(w.kind);
  j["group"] = w.group;
  j["instance"] = w.instance;
  j["zone"] = w.zone;
  j["failure"] = ToString(w.failure);
  j["signals"] = w.signals;
  j["evidence"] = w.evidence;
  j["rung"] = w.rung;
  j["action"] = ToString(w.action);
  j["state"] = ToString(w.state);
  j["launch_attempt"] = w.launch_attempt;
  j["replacement"] = w.replacement;
  j["replacement_zone"] = w.replacement_zone;
  j["tried_zones"] = w.tried_zones;
  nlohmann::json snaps = nlohmann::json::array();
  for (const auto& s : w.snapshots) {
    snaps.push_back({{"id", s.id},
                     {"volume_id", s.volume_id},
                     {"device", s.device},
                     {"complete", s.complete}});
  }
  j["snapshots"] = snaps;
  j["approved"] = w.approved;
  j["dry_run"] = w.dry_run;
  return j.dump();
}

Status ParseWorkflowJson(const std::string& text, Workflow* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("workflow journal entry is not a JSON object");
  }
  Workflow w;
  try {
    w.id = j.at("id").get<std::string>();
    std::string kind = j.at("kind").get<std::string>();
    if (kind == "recovery") w.kind = WorkflowKind::kRecovery;
    else if (kind == "launch") w.kind = WorkflowKind::kLaunch;
    else if (kind == "scale_in") w.kind = WorkflowKind::kScaleIn;
    else return InvalidArgument("workflow " + w.id + ": unknown kind '" + kind + "'");
    w.group = j.at("group").get<std::string>();
    w.instance = j.value("instance", "");
    w.zone = j.value("zone", "");
    std::string failure = j.value("failure", "instance");
    if (failure == "system") w.failure = FailureKind::kSystem;
    else if (failure == "instance") w.failure = FailureKind::kInstance;
    else if (failure == "application") w.failure = FailureKind::kApplication;
    else if (failure == "lost") w.failure = FailureKind::kLost;
    else return InvalidArgument("workflow " + w.id + ": unknown failure '" + failure + "'");
    w.signals = j.value("signals", std::vector<std::string>{});
    w.evidence = j.value("evidence", "");
    w.rung = j.value("rung", 0);
    std::string action = j.value("action", "replace");
    if (!ParseRecoveryAction(action, &w.action)) {
      return InvalidArgument("workflow " + w.id + ": unknown action '" + action + "'");
    }
    std::string state = j.at("state").get<std::string>();
    if (!ParseWorkflowState(state, &w.state)) {
      return InvalidArgument("workflow " + w.id + ": unknown state '" + state + "'");
    }
    w.launch_attempt = j.value("launch_attempt", 0);
    w.replacement = j.value("replacement", "");
    w.replacement_zone = j.value("replacement_zone", "");
    w.tried_zones = j.value("tried_zones", std::vector<std::string>{});
    for (const auto& s : j.value("snapshots", nlohmann::json::array())) {
      Snapshot snap;
      snap.id = s.at("id").get<std::string>();
      snap.volume_id = s.value("volume_id", "");
      snap.device = s.value("device", "");
      snap.complete = s.value("complete", false);
      w.snapshots.push_back(std::move(snap));
    }
    w.approved = j.value("approved", false);
    w.dry_run = j.value("dry_run", false);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("workflow journal entry: ") + e.what());
  }
  *out = std::move(w);
  return Status::Ok();
}

}  // namespace lifeline
