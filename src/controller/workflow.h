// Workflow: one in-flight piece of work on the fleet — a recovery of an
// instance, a launch for capacity, or a scale-in termination — as an
// explicit state machine with named states. Workflows are journaled
// (before and after each provider call) so that a restarted controller
// resumes them: every step is idempotent (launch carries its token,
// terminate of a gone instance succeeds), so resuming re-runs the current
// step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/group_spec.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "model/model.h"

namespace lifeline {

enum class WorkflowKind { kRecovery, kLaunch, kScaleIn };
std::string_view ToString(WorkflowKind k);

enum class WorkflowState {
  kAwaitingApproval,     // waiting for the safety governor or a backoff
  kRebooting,            // provider Reboot in flight
  kRecovering,           // provider Recover in flight
  kVerifying,            // waiting for the instance to be healthy again
  kSnapshotting,         // snapshotting the old instance's volumes
  kLaunching,            // Launch in flight (replacement or capacity)
  kAwaitingReplacement,  // replacement launched; waiting until it is ready
  kFencing,              // stopping the old instance before moving resources
  kMovingResources,      // moving addresses and detachable volumes
  kTerminatingOld,       // terminating the replaced / scaled-in instance
  kCleaningUp,           // terminating a replacement that never got ready
  kSucceeded,
  kFailed,
};
std::string_view ToString(WorkflowState s);
bool ParseWorkflowState(std::string_view s, WorkflowState* out);
bool IsTerminal(WorkflowState s);

struct Workflow {
  std::string id;  // "wf-000042"
  WorkflowKind kind = WorkflowKind::kRecovery;
  std::string group;
  std::string instance;  // the subject (recovery, scale-in); empty for launch
  std::string zone;      // the subject's zone, or the launch's target zone

  // Recovery only.
  FailureKind failure = FailureKind::kInstance;
  std::vector<std::string> signals;
  std::string evidence;
  int rung = 0;
  RecoveryAction action = RecoveryAction::kReplace;

  WorkflowState state = WorkflowState::kAwaitingApproval;
  // Launches: the token is derived from the workflow id and launch_attempt,
  // so re-running the step after a crash reuses it.
  int launch_attempt = 0;
  std::string replacement;       // launched instance id
  std::string replacement_zone;
  std::vector<std::string> tried_zones;
  std::vector<Snapshot> snapshots;
  int call_attempt = 0;          // retries of the current provider call
  bool approved = false;         // the governor allowed the action
  bool dry_run = false;

  // Not journaled: runtime bookkeeping.
  MonoTime created{};
  MonoTime state_since{};
  MonoTime deadline{};
  EventLoop::TimerId timer = EventLoop::kNoTimer;
  uint64_t epoch = 0;            // bumps on every state change
  MonoTime healthy_since{};      // verifying: healthy since (zero: not)
  bool journaled = true;         // false until its first journal write
  bool journal_behind = false;   // the last journal write of it failed
  uint64_t number = 0;           // the numeric part of id (0: unknown)
  std::string last_defer_rule;

  std::string LaunchToken() const {
    return id + "-" + std::to_string(launch_attempt);
  }
};

// JSON form for the journal (nlohmann::json text). Runtime fields are left
// out; ParseWorkflowJson names the field that is wrong.
std::string WorkflowToJson(const Workflow& w);
Status ParseWorkflowJson(const std::string& text, Workflow* out);

// Where workflows are journaled. The controller calls Save before and after
// every provider call and Remove when a workflow ends. Implementations:
// MemoryJournal (tests, simulator) and the store-backed journal (daemon).
class Journal {
 public:
  virtual ~Journal() = default;
  virtual Status Save(const Workflow& w) = 0;
  virtual Status Remove(const std::string& id) = 0;
  virtual Result<std::vector<Workflow>> Load() = 0;
  // Small named values the controller persists (freeze flags, counters).
  virtual Status PutValue(const std::string& key, const std::string& value) = 0;
  virtual Result<std::string> GetValue(const std::string& key) = 0;
};

}  // namespace lifeline
