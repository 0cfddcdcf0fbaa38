#include "controller/workflow.h"

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

namespace {

// The journal text is nlohmann's compact dump() of the object below (keys in
// std::map order). Workflows are journaled on every step of every recovery,
// so the common case — ASCII text — is written directly, byte for byte what
// dump() writes; anything else goes through nlohmann (UTF-8 checks).
class AsciiJsonWriter {
 public:
  explicit AsciiJsonWriter(std::string& out) : out_(out) {}
  bool ok() const { return ok_; }

  void Key(std::string_view k) {
    out_ += first_ ? "\"" : ",\"";
    first_ = false;
    out_ += k;
    out_ += "\":";
  }
  void String(std::string_view s) {
    out_ += '"';
    // Runs that need no escaping are appended whole.
    size_t plain = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      auto u = static_cast<unsigned char>(s[i]);
      if (u >= 0x20 && u < 0x80 && u != '"' && u != '\\') continue;
      out_.append(s.data() + plain, i - plain);
      plain = i + 1;
      char c = s[i];
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (u >= 0x80) {
            ok_ = false;
          } else if (u < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_ += kHex[u >> 4];
            out_ += kHex[u & 0xf];
          }
      }
    }
    out_.append(s.data() + plain, s.size() - plain);
    out_ += '"';
  }
  void Strings(const std::vector<std::string>& v) {
    out_ += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      String(v[i]);
    }
    out_ += ']';
  }
  void Int(int v) { out_ += std::to_string(v); }
  void Bool(bool v) { out_ += v ? "true" : "false"; }
  // Nested objects: the caller writes the braces.
  void Open() {
    out_ += '{';
    first_ = true;
  }
  void Close() {
    out_ += '}';
    first_ = false;
  }
  void Raw(char c) { out_ += c; }

 private:
  std::string& out_;
  bool first_ = true;
  bool ok_ = true;
};

bool WriteAsciiWorkflowJson(const Workflow& w, std::string& out) {
  out.reserve(512);
  AsciiJsonWriter j(out);
  j.Open();
  j.Key("action");
  j.String(ToString(w.action));
  j.Key("approved");
  j.Bool(w.approved);
  j.Key("dry_run");
  j.Bool(w.dry_run);
  j.Key("evidence");
  j.String(w.evidence);
  j.Key("failure");
  j.String(ToString(w.failure));
  j.Key("group");
  j.String(w.group);
  j.Key("id");
  j.String(w.id);
  j.Key("instance");
  j.String(w.instance);
  j.Key("kind");
  j.String(ToString(w.kind));
  j.Key("launch_attempt");
  j.Int(w.launch_attempt);
  j.Key("replacement");
  j.String(w.replacement);
  j.Key("replacement_zone");
  j.String(w.replacement_zone);
  j.Key("rung");
  j.Int(w.rung);
  j.Key("signals");
  j.Strings(w.signals);
  j.Key("snapshots");
  j.Raw('[');
  for (size_t i = 0; i < w.snapshots.size(); ++i) {
    const Snapshot& s = w.snapshots[i];
    if (i) j.Raw(',');
    j.Open();
    j.Key("complete");
    j.Bool(s.complete);
    j.Key("device");
    j.String(s.device);
    j.Key("id");
    j.String(s.id);
    j.Key("volume_id");
    j.String(s.volume_id);
    j.Close();
  }
  j.Raw(']');
  j.Key("state");
  j.String(ToString(w.state));
  j.Key("tried_zones");
  j.Strings(w.tried_zones);
  j.Key("zone");
  j.String(w.zone);
  j.Close();
  return j.ok();
}

}  // namespace

std::string WorkflowToJson(const Workflow& w) {
  std::string fast;
  if (WriteAsciiWorkflowJson(w, fast)) return fast;
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
