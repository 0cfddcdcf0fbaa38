// PracticeRunner: scheduled practice runs of a zonal shift — a group is
// shifted away from one zone on purpose, for a bounded time, to prove it
// can live without that zone (the way EC2's zonal autoshift practice runs
// do). A run is aborted as soon as the group's own health degrades; every
// run ends with a recorded outcome.
//
// Lifecycle of a run (PracticeRunState):
//   scheduled -> running -> succeeded   the duration passed, health held
//                        -> aborted     health degraded, or the shift was
//                                       ended or superseded by someone else
//             -> not_started            at its start time the group had an
//                                       active shift, was not healthy, or the
//                                       shift manager refused
//             -> canceled               by an operator (before or while
//                                       running)
// Health during a run: the share of the group's active instances that are
// unhealthy or suspect must stay at most `max_unhealthy_ratio`, and the
// healthy active instances at least `min_serving_ratio` of desired. The
// same test gates the start.
//
// Practice runs have the lowest shift precedence: an autoshift or a manual
// shift supersedes one (and the run ends aborted with that reason).
// History: "practice_run.scheduled", ".started", ".succeeded", ".aborted",
// ".not_started", ".canceled", with the health figures as evidence.
//
// Thread-safety: none; runs on the controller's loop. The controller and
// the shift manager must outlive the runner; its destructor stops its timers.
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

inline constexpr Duration kMaxPracticeRunDuration = std::chrono::hours(4);

enum class PracticeRunState {
  kScheduled,
  kRunning,
  kSucceeded,
  kAborted,
  kNotStarted,
  kCanceled,
};
std::string_view ToString(PracticeRunState s);
bool IsFinished(PracticeRunState s);

struct PracticeRunRequest {
  std::string group;
  std::string zone;
  // When to start; the epoch (default) means now.
  WallTime start_at{};
  Duration duration = std::chrono::minutes(30);
  std::string comment;
  std::string actor = "api";
  double max_unhealthy_ratio = 0.1;
  double min_serving_ratio = 0.9;
};

struct PracticeRun {
  std::string id;  // "pr-000001"
  PracticeRunRequest request;
  PracticeRunState state = PracticeRunState::kScheduled;
  std::string shift_id;  // while and after running
  WallTime started_at{};
  WallTime ended_at{};
  std::string outcome;  // one sentence: why it ended as it did
  Evidence evidence;    // health figures at the end
};

struct PracticeRunnerConfig {
  // How often a running practice checks the group's health.
  Duration check_every = std::chrono::seconds(1);
};

// The group's health as a practice run judges it.
struct PracticeHealth {
  int active = 0;
  int unhealthy_or_suspect = 0;
  int desired = 0;
  double unhealthy_ratio() const {
    return active > 0 ? static_cast<double>(unhealthy_or_suspect) / active : 0;
  }
  int serving() const { return active - unhealthy_or_suspect; }
};
// Pure: empty when healthy enough, else the reason.
std::string PracticeHealthProblem(const PracticeHealth& h,
                                  const PracticeRunRequest& r);

class PracticeRunner {
 public:
  PracticeRunner(Controller& controller, ZonalShiftManager& shifts,
                 PracticeRunnerConfig config = {});
  ~PracticeRunner();
  PracticeRunner(const PracticeRunner&) = delete;
  PracticeRunner& operator=(const PracticeRunner&) = delete;

  // Schedules a run. kNotFound (group), kInvalidArgument (zone not the
  // group's, duration not in (0, 4h], ratios outside [0, 1]).
  Result<PracticeRun> Schedule(const PracticeRunRequest& request);
  // Cancels a scheduled or running practice (ending its shift).
  // kNotFound; kFailedPrecondition when it already finished.
  Result<PracticeRun> Cancel(const std::string& id, const std::string& actor);
  // Newest first.
  std::vector<PracticeRun> List(
      const std::optional<std::string>& group = std::nullopt) const;
  Result<PracticeRun> Get(const std::string& id) const;

 private:
  struct Entry {
    PracticeRun run;
    EventLoop::TimerId timer = EventLoop::kNoTimer;
  };
  void Begin(Entry& e);
  void Check(Entry& e);
  void Finish(Entry& e, PracticeRunState state, const std::string& outcome);
  void Arm(Entry& e, Duration delay, void (PracticeRunner::*fn)(Entry&));
  PracticeHealth HealthOf(const std::string& group) const;
  Evidence EvidenceOf(const PracticeHealth& h) const;
  void Note(EventKind kind, const std::string& type, const PracticeRun& run,
            const std::string& message, Evidence evidence = {});

  Controller& controller_;
  ZonalShiftManager& shifts_;
  PracticeRunnerConfig config_;
  std::map<std::string, Entry> runs_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_;
};

}  // namespace lifeline
