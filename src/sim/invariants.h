// The bookkeeping behind lifeline-sim's invariants that does not need the
// controller: the budget check of I1, the capacity deadlines of I4 and the
// workflow ledger of I3 and I6. ScenarioRunner (runner.cc) feeds them what
// it observes of Lifeline and of the simulated cloud.
//
// Plain values; not thread-safe (the simulation is single-threaded).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sim/scenario.h"

namespace lifeline {

// I1. Every approved destructive action takes one token from the fleet's,
// the zone's and the group's bucket (SafetyGovernor::Decide). A bucket of
// `burst` tokens refilled at `per_minute` allows any run of approvals
// a_i..a_j only if
//     j - i + 1 <= burst + per_minute * (t_j - t_i) / 1m,
// and that is exact: a full bucket spending its burst at t_i and then every
// token as it is refilled reaches it. So the check has no slack. It holds
// across a restart of Lifeline too, whose fresh governor starts with full
// buckets, because nothing is approved during the cold-start grace: the
// refill over that grace covers the second burst whenever burst <=
// per_minute * grace / 1m, true of every default (group 10 <= 30, zone 50 <=
// 150, fleet 100 <= 300 with the 30 s grace).
class BudgetLedger {
 public:
  // Records an approval in the bucket `scope` ("fleet", "zone sim-1a",
  // "group web") at `at`; returns a description of the violation if the
  // approvals in that scope no longer fit the bucket.
  std::optional<std::string> Approve(const std::string& scope, MonoTime at,
                                     double burst, double per_minute);

 private:
  // Approvals further apart than this are not compared, to bound the work:
  // an overrun is caught when it shows within this long.
  static constexpr Duration kHorizon = std::chrono::minutes(10);
  std::map<std::string, std::deque<MonoTime>> approvals_;
};

// I4. For each fault, the moment by which capacity must be back at desired:
// its end (its start for an instantaneous one) plus the scenario's bound.
// A deadline that falls while another fault is active or still within its
// own bound is left to that fault, whose deadline is later (so every
// failure's repair is still checked, by the last deadline of the chain); a
// capacity shortage of a zone excuses nothing, since capacity elsewhere
// must be used — whether any exists is asked at the check itself.
struct CapacityDeadline {
  size_t fault = 0;               // index in Scenario::faults
  Duration at{};                  // since the start of the run
  bool past_end = false;          // the run ends before it
  std::optional<size_t> left_to;  // the fault whose deadline covers it
};
std::vector<CapacityDeadline> CapacityDeadlines(const Scenario& scenario);
// When the fault's effect on the fleet ends: its start if instantaneous,
// Duration::max() if it lasts until the end of the run.
Duration FaultEnd(const FaultSpec& fault);

// I3 and I6. What the runner has seen of Lifeline's workflows across
// restarts: who each workflow id belongs to, which ids finished, which
// launch tokens were used, and for which failed instance each replacement
// was launched.
class WorkflowLedger {
 public:
  struct Identity {
    std::string kind;  // "recovery", "launch", "scale_in"
    std::string group;
    std::string subject;  // the instance acted on; empty for a launch
    bool operator==(const Identity&) const = default;
  };

  // A workflow of Lifeline's is live under `id`. Violation if the id
  // already finished or belonged to another workflow.
  std::optional<std::string> Seen(const std::string& id, const Identity& who);
  // The workflow `id` finished. Violation if it had finished already.
  std::optional<std::string> Finished(const std::string& id);
  // Workflow `id` (identity `who`) launches with `token`. Violation if the
  // token was used by another workflow or by a finished one.
  std::optional<std::string> Launch(const std::string& token,
                                    const std::string& id, const Identity& who);
  // The failed instance a launch token replaces ("" if it launched
  // capacity or is unknown).
  std::string SubjectOfToken(const std::string& token) const;

 private:
  std::map<std::string, Identity> identity_;
  std::set<std::string> finished_;
  std::map<std::string, std::string> token_owner_;    // token -> workflow
  std::map<std::string, std::string> token_subject_;  // token -> instance
};

// "wf-000042" of the launch token "wf-000042-1".
std::string WorkflowOfToken(const std::string& token);

}  // namespace lifeline
