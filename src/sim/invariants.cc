#include "sim/invariants.h"

#include <cstdio>

namespace lifeline {

// ---- I1 ---------------------------------------------------------------------

std::optional<std::string> BudgetLedger::Approve(const std::string& scope,
                                                 MonoTime at, double burst,
                                                 double per_minute) {
  std::deque<MonoTime>& seen = approvals_[scope];
  while (!seen.empty() && at - seen.front() > kHorizon) seen.pop_front();
  seen.push_back(at);
  // Every run of approvals ending with this one must fit the bucket.
  const double per_second = per_minute / 60.0;
  size_t n = seen.size();
  for (size_t i = 0; i < n; ++i) {
    double count = static_cast<double>(n - i);
    double span = ToSeconds(at - seen[i]);
    double allowed = burst + per_second * span;
    if (count > allowed + 1e-6) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "%s budget exceeded: %.0f destructive actions approved "
                    "within %s, the bucket (burst %.0f, %.0f/min) allows %.1f",
                    scope.c_str(), count, FormatDuration(at - seen[i]).c_str(),
                    burst, per_minute, allowed);
      return std::string(buf);
    }
  }
  return std::nullopt;
}

// ---- I4 ---------------------------------------------------------------------

namespace {
bool Lasts(FaultKind k) {
  switch (k) {
    case FaultKind::kFailZone:
    case FaultKind::kCapacityShortage:
    case FaultKind::kDegradeZone:
    case FaultKind::kApiThrottle:
    case FaultKind::kApiOutage:
    case FaultKind::kPartition:
    case FaultKind::kMassFalseFailure:
    case FaultKind::kFreeze:
    case FaultKind::kStall:
      return true;
    default:
      return false;
  }
}
// Faults that may legitimately keep a group below desired: they take
// capacity away or keep Lifeline from restoring it. A capacity shortage of
// one zone does neither while other zones have room, and a gray failure
// leaves every instance serving.
bool MayHoldCapacityDown(FaultKind k) {
  return k != FaultKind::kCapacityShortage && k != FaultKind::kDegradeZone;
}
Duration Plus(Duration a, Duration b) {
  return a == Duration::max() ? a : a + b;
}
}  // namespace

Duration FaultEnd(const FaultSpec& f) {
  if (!Lasts(f.kind)) return f.at;
  if (f.duration <= Duration::zero() && f.kind != FaultKind::kStall) {
    return Duration::max();
  }
  return f.at + f.duration;
}

std::vector<CapacityDeadline> CapacityDeadlines(const Scenario& sc) {
  std::vector<CapacityDeadline> out;
  const Duration bound = sc.capacity_restored_within;
  for (size_t i = 0; i < sc.faults.size(); ++i) {
    CapacityDeadline d;
    d.fault = i;
    d.at = Plus(FaultEnd(sc.faults[i]), bound);
    d.past_end = d.at > sc.duration;
    for (size_t j = 0; j < sc.faults.size() && !d.past_end; ++j) {
      const FaultSpec& other = sc.faults[j];
      if (j == i || !MayHoldCapacityDown(other.kind)) continue;
      Duration other_deadline = Plus(FaultEnd(other), bound);
      if (other.at <= d.at && d.at < other_deadline &&
          (!d.left_to ||
           other_deadline > Plus(FaultEnd(sc.faults[*d.left_to]), bound))) {
        d.left_to = j;
      }
    }
    out.push_back(d);
  }
  return out;
}

// ---- I3 and I6 --------------------------------------------------------------

std::string WorkflowOfToken(const std::string& token) {
  size_t dash = token.rfind('-');
  return dash == std::string::npos ? token : token.substr(0, dash);
}

std::optional<std::string> WorkflowLedger::Seen(const std::string& id,
                                                const Identity& who) {
  if (finished_.count(id)) {
    return "workflow id " + id + " is in use again after it finished (now " +
           who.kind + " of " + (who.subject.empty() ? who.group : who.subject) +
           ")";
  }
  auto [it, added] = identity_.try_emplace(id, who);
  if (!added && !(it->second == who)) {
    return "workflow id " + id +
           " belongs to two workflows: " + it->second.kind + " of " +
           (it->second.subject.empty() ? it->second.group
                                       : it->second.subject) +
           " and " + who.kind + " of " +
           (who.subject.empty() ? who.group : who.subject);
  }
  return std::nullopt;
}

std::optional<std::string> WorkflowLedger::Finished(const std::string& id) {
  if (!finished_.insert(id).second) {
    return "workflow id " + id + " finished twice";
  }
  return std::nullopt;
}

std::optional<std::string> WorkflowLedger::Launch(const std::string& token,
                                                  const std::string& id,
                                                  const Identity& who) {
  std::optional<std::string> v = Seen(id, who);
  auto [it, added] = token_owner_.try_emplace(token, id);
  if (!v && !added && it->second != id) {
    v = "launch token " + token + " used by " + it->second + " and by " + id;
  }
  if (v) return "second launch with token " + token + ": " + *v;
  if (who.kind == "recovery") token_subject_[token] = who.subject;
  return std::nullopt;
}

std::string WorkflowLedger::SubjectOfToken(const std::string& token) const {
  auto it = token_subject_.find(token);
  return it == token_subject_.end() ? "" : it->second;
}

}  // namespace lifeline
