// Autoshift: a zone-impairment detector that shifts a group away from a zone
// that is a sustained outlier against the group's other zones, and ends the
// shift after the zone has recovered and a hold-down has passed.
//
// What it compares, per group and zone (active instances only):
//   - silence: the share of instances failed or suspected — failed status
//     checks, heartbeat loss (suspect or failed by the detector), agents
//     reporting failure — from the controller's zone counters, every tick;
//   - load: the mean error ratio and the median latency the agents report
//     (Controller::OnLoadReport), recomputed every `load_every`.
// A zone is *impaired* when its silence share reaches `silent_ratio` or its
// error ratio reaches `error_ratio`. It is the *outlier* when it is impaired
// (or its latency is `latency_factor` times the others') while every other
// judged zone looks normal. Rules:
//   - one zone at a time per group;
//   - never when two or more zones look impaired: when every zone looks
//     impaired at once it is Lifeline's own view failing (a partition of
//     the observer, a bad agent deploy), and an "autoshift.suppressed" alert
//     says so;
//   - a shift starts only after the outlier held for `silence_sustain`
//     (silence) or `load_sustain` (error ratio, latency);
//   - bounded: the shift expires after the group's autoshift.max_duration
//     (at most 72h); a zone still impaired when its shift expired is not
//     shifted again until it has looked normal once;
//   - opt-in per group (GroupSpec::autoshift.enabled); validation of the
//     remaining capacity is skipped only when autoshift.allow_without_capacity.
// Every start, end, refusal and suppression is appended to the History
// ("autoshift.started", "autoshift.ended", "autoshift.refused",
// "autoshift.suppressed") with the figures as evidence.
//
// The per-group decision is a pure transition function (NextAutoshift) over
// a named phase; the detector only collects signals and executes actions.
//
// Thread-safety: none; runs on the controller's loop. The controller and the
// shift manager must outlive the detector; its destructor stops its timer.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/controller.h"
#include "zones/zonal_shift.h"

namespace lifeline {

struct AutoshiftConfig {
  Duration evaluate_every = std::chrono::milliseconds(100);
  Duration load_every = std::chrono::seconds(5);
  Duration silence_sustain = std::chrono::milliseconds(500);
  Duration load_sustain = std::chrono::seconds(30);
  // A recovered zone stays shifted this much longer.
  Duration hold_down = std::chrono::minutes(5);
  // Zones with fewer active instances are not judged.
  int min_instances_per_zone = 1;
  // Impaired: share of failed/suspected instances, or mean error ratio.
  double silent_ratio = 0.5;
  double error_ratio = 0.02;
  // Outlier by load: this many times the other zones' figure.
  double error_factor = 3.0;
  double latency_factor = 2.0;
  double latency_min_delta_ms = 50;
};

// What one zone of one group looks like.
struct ZoneSignals {
  int instances = 0;       // active
  int failed = 0;          // unhealthy
  int silent = 0;          // unhealthy or suspect (heartbeat loss included)
  int reporting = 0;       // instances with a load report
  double error_ratio = 0;  // mean over reporting instances
  double latency_ms = 0;   // median over reporting instances
  double silent_share() const {
    return instances > 0 ? static_cast<double>(silent) / instances : 0;
  }
};

// The instantaneous comparison of a group's zones.
struct ZoneAssessment {
  std::string outlier;                // empty: none
  std::string signal;                 // "silence", "error_ratio", "latency"
  std::vector<std::string> impaired;  // judged zones that look impaired
  int judged = 0;                     // zones with enough instances
  bool all_impaired() const {
    return judged >= 2 && static_cast<int>(impaired.size()) == judged;
  }
};

// Pure: compares the zones' signals.
ZoneAssessment AssessZones(const std::map<std::string, ZoneSignals>& zones,
                           const AutoshiftConfig& config);
// True when the zone looks normal: judged, not impaired, not an outlier by
// latency.
bool ZoneLooksNormal(const std::string& zone,
                     const std::map<std::string, ZoneSignals>& zones,
                     const AutoshiftConfig& config);

enum class AutoshiftPhase {
  kWatching,    // no candidate
  kSuspected,   // one zone is the outlier; waiting for it to be sustained
  kShifted,     // our shift is active; the zone still looks impaired
  kRecovering,  // our shift is active; the zone looks normal (hold-down)
};
std::string_view ToString(AutoshiftPhase p);

struct AutoshiftGroupState {
  AutoshiftPhase phase = AutoshiftPhase::kWatching;
  std::string zone;
  std::string signal;
  MonoTime since{};          // entered the phase
  std::string shift_id;      // our shift, while shifted/recovering
  bool refused = false;      // the manager refused this candidate; wait for
                             // the outlier to change before trying again
  std::string blocked_zone;  // expired while impaired; not shifted again
                             // until it looked normal once
};

enum class AutoshiftAction { kNone, kStartShift, kEndShift };
std::string_view ToString(AutoshiftAction a);

struct AutoshiftStep {
  AutoshiftGroupState next;
  AutoshiftAction action = AutoshiftAction::kNone;
};

// Pure transition for one group. `shift_active` says whether state.shift_id
// is still active in the manager (false after expiry, cancel, supersede).
// kStartShift leaves the phase at kSuspected: the caller moves it to
// kShifted when the manager accepted the shift, or sets `refused`.
AutoshiftStep NextAutoshift(const AutoshiftGroupState& state,
                            const std::map<std::string, ZoneSignals>& zones,
                            bool shift_active, MonoTime now,
                            const AutoshiftConfig& config);

class AutoshiftDetector {
 public:
  AutoshiftDetector(Controller& controller, ZonalShiftManager& shifts,
                    AutoshiftConfig config = {});
  ~AutoshiftDetector();
  AutoshiftDetector(const AutoshiftDetector&) = delete;
  AutoshiftDetector& operator=(const AutoshiftDetector&) = delete;

  // Arms the periodic evaluation.
  void Start();
  // One evaluation pass over every group now (tests, the alert hook).
  void EvaluateNow();
  // For Controller::SetAlertHook: a zone-level alert triggers an evaluation
  // on the loop without waiting for the next tick.
  void OnAlert(const HistoryEvent& alert);

  // Signals as the detector last saw them, and its state, per group.
  std::map<std::string, ZoneSignals> SignalsOf(const std::string& group) const;
  std::optional<AutoshiftGroupState> StateOf(const std::string& group) const;
  const AutoshiftConfig& config() const { return config_; }

 private:
  struct Load {
    int reporting = 0;
    double error_ratio = 0;
    double latency_ms = 0;
  };
  void Tick();
  void RefreshLoad(const std::string& group);
  void Evaluate(const std::string& group, const GroupSpec& spec);
  void StartShift(const std::string& group, const GroupSpec& spec,
                  AutoshiftGroupState& state,
                  const std::map<std::string, ZoneSignals>& signals);
  void EndShift(const std::string& group, AutoshiftGroupState& state,
                const std::map<std::string, ZoneSignals>& signals);
  void Note(EventKind kind, const std::string& type, const std::string& group,
            const std::string& zone, const std::string& message,
            Evidence evidence);

  Controller& controller_;
  ZonalShiftManager& shifts_;
  AutoshiftConfig config_;
  std::map<std::string, AutoshiftGroupState> states_;
  std::map<std::string, std::map<std::string, Load>> load_;  // group, zone
  std::map<std::string, MonoTime> load_at_;
  std::map<std::string, bool> suppressed_;  // alert raised, per group
  bool started_ = false;
  bool posted_ = false;
  EventLoop::TimerId timer_ = EventLoop::kNoTimer;
  std::shared_ptr<bool> alive_;
};

// Figures of a zone and of the others, as history evidence.
Evidence AutoshiftEvidence(const std::string& zone,
                           const std::map<std::string, ZoneSignals>& zones);

}  // namespace lifeline
