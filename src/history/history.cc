#include "history/history.h"

#include <algorithm>
#include <array>

namespace lifeline {

namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, 6> kKinds{{
    {EventKind::kObservation, "observation"},
    {EventKind::kDecision, "decision"},
    {EventKind::kAction, "action"},
    {EventKind::kRefusal, "refusal"},
    {EventKind::kAlert, "alert"},
    {EventKind::kAudit, "audit"},
}};
}  // namespace

std::string_view ToString(EventKind k) {
  for (const auto& [v, n] : kKinds) {
    if (v == k) return n;
  }
  return "unknown";
}

bool ParseEventKind(std::string_view s, EventKind* out) {
  for (const auto& [v, n] : kKinds) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool Matches(const HistoryQuery& q, const HistoryEvent& e) {
  if (e.seq <= q.after_seq) return false;
  if (q.group && e.group != *q.group) return false;
  if (q.zone && e.zone != *q.zone) return false;
  if (q.instance && e.instance != *q.instance) return false;
  if (q.kind && e.kind != *q.kind) return false;
  if (q.type_prefix && e.type.rfind(*q.type_prefix, 0) != 0) return false;
  if (q.since && e.at < *q.since) return false;
  if (q.until && e.at > *q.until) return false;
  return true;
}

uint64_t MemoryHistory::Append(HistoryEvent event) {
  event.seq = next_seq_++;
  for (const auto& l : listeners_) l(event);
  events_.push_back(std::move(event));
  if (events_.size() > capacity_) events_.pop_front();
  return events_.back().seq;
}

std::vector<HistoryEvent> MemoryHistory::Query(const HistoryQuery& q) const {
  std::vector<HistoryEvent> out;
  if (q.oldest_first) {
    // events_ is in seq order: start at the first event after after_seq.
    auto it = std::upper_bound(
        events_.begin(), events_.end(), q.after_seq,
        [](uint64_t seq, const HistoryEvent& e) { return seq < e.seq; });
    for (; it != events_.end() && out.size() < q.limit; ++it) {
      if (Matches(q, *it)) out.push_back(*it);
    }
    return out;
  }
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < q.limit;
       ++it) {
    if (Matches(q, *it)) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace lifeline
