// History: the append-only record of every observation, decision and action,
// with its evidence (DESIGN.md, Memory). The controller appends; the API,
// CLI and event streams read.
//
// Thread-safety: implementations document their own. MemoryHistory is
// loop-thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline {

enum class EventKind {
  kObservation,  // a signal changed: check failed, heartbeat lost, ...
  kDecision,     // the controller chose to act (rule + evidence)
  kAction,       // a provider call started or finished (with its result)
  kRefusal,      // the safety governor refused or deferred an action
  kAlert,        // something an operator must look at (panic, partition)
  kAudit,        // an operator command (freeze, shift, set-health, apply)
};
std::string_view ToString(EventKind k);
bool ParseEventKind(std::string_view s, EventKind* out);

struct HistoryEvent {
  uint64_t seq = 0;  // assigned by the history, increasing
  WallTime at{};
  EventKind kind = EventKind::kObservation;
  std::string type;  // dotted name: "instance.unhealthy",
                     // "recovery.started", "safety.refused", ...
  std::string group;
  std::string zone;
  std::string instance;
  std::string rule;     // the rule or policy that applied, if any
  std::string message;  // one human sentence
  std::vector<std::pair<std::string, std::string>> evidence;
};

// Which events a History (or Store::QueryHistory) returns: those matching
// every filter that is set, with seq > after_seq, at most `limit` of them,
// always oldest first. When more than `limit` match, `oldest_first` says
// which end is kept:
//  - false (the default): the NEWEST `limit` matches — "what happened
//    lately". Events between after_seq and the oldest one returned are left
//    out, so this cannot be used to page forward.
//  - true: the OLDEST `limit` matches — the next page after after_seq.
//    Querying again with after_seq = the last seq returned walks every
//    matching event exactly once; a page shorter than `limit` means there
//    was nothing more (at the time of the query).
struct HistoryQuery {
  std::optional<std::string> group, zone, instance, type_prefix;
  std::optional<EventKind> kind;
  std::optional<WallTime> since, until;
  uint64_t after_seq = 0;     // only events with seq > after_seq
  size_t limit = 1000;        // at most this many, oldest first
  bool oldest_first = false;  // true: the OLDEST `limit` matches after
                              // after_seq (paging forward); false: the newest
};

bool Matches(const HistoryQuery& q, const HistoryEvent& e);

class History {
 public:
  using Listener = std::function<void(const HistoryEvent&)>;
  virtual ~History() = default;
  // Assigns seq, stores the event and tells listeners. Returns the seq.
  virtual uint64_t Append(HistoryEvent event) = 0;
  virtual std::vector<HistoryEvent> Query(const HistoryQuery& q) const = 0;
  // Like Query, but kUnavailable where the answer would be incomplete (a
  // history backed by a store that cannot be read now), instead of the best
  // partial answer. A reader paging forward uses this, so that it never
  // steps past events it could not see.
  virtual Result<std::vector<HistoryEvent>> TryQuery(
      const HistoryQuery& q) const {
    return Query(q);
  }
  // Listeners are called synchronously inside Append (on the appender's
  // thread); they must be quick and must not append.
  virtual void AddListener(Listener l) = 0;
};

// Bounded in-memory history: keeps the newest `capacity` events.
class MemoryHistory final : public History {
 public:
  explicit MemoryHistory(size_t capacity = 100000) : capacity_(capacity) {}
  uint64_t Append(HistoryEvent event) override;
  std::vector<HistoryEvent> Query(const HistoryQuery& q) const override;
  void AddListener(Listener l) override { listeners_.push_back(std::move(l)); }
  size_t size() const { return events_.size(); }
  uint64_t last_seq() const { return next_seq_ - 1; }

 private:
  size_t capacity_;
  uint64_t next_seq_ = 1;
  std::deque<HistoryEvent> events_;
  std::vector<Listener> listeners_;
};

}  // namespace lifeline
