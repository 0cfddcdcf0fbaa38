// Store: Lifeline's durable memory (DESIGN.md, Memory) — desired state,
// in-flight recovery workflows and the history, behind one small interface
// that SQLite (embedded default) and etcd (HA) both implement.
//
// Model: a typed key-value map per Namespace. Keys and values are byte
// strings; values are JSON written by the caller (the store never parses
// them). Writes go through Commit(WriteBatch), which is all-or-nothing and
// durable when it returns OK. The history is a separate append-only log of
// HistoryEvent rows with seq numbers, filtered queries and retention.
//
// Thread-safety: every method of every implementation may be called from
// any thread concurrently.
//
// Errors: every method returns a Status whose message names the store, the
// operation and the object, e.g.
//   "store: Commit(3 writes) to /var/lib/lifeline/state.db: database is locked"
// with a code that says what to do: kUnavailable (busy/locked; retry),
// kResourceExhausted (disk or size cap full), kDataLoss (the stored data is
// damaged; stop and restore), kInvalidArgument (the caller's batch is wrong),
// kFailedPrecondition (the store is not usable by this build), kInternal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "history/history.h"

namespace lifeline {

// What a key belongs to. The etcd layout is /lifeline/<ToString(ns)>/<key>.
enum class Namespace {
  kGroups,     // group name -> group spec (JSON)
  kInstances,  // instance id -> what the controller knows about it
  kWorkflows,  // workflow id (or id/step) -> recovery journal entry
  kShifts,     // zone (or group/zone) -> zonal shift
  kFlags,      // "fleet" or group name -> freeze flag
  kMeta,       // controller bookkeeping (schema notes, leader epoch, ...)
};
inline constexpr Namespace kAllNamespaces[] = {
    Namespace::kGroups, Namespace::kInstances, Namespace::kWorkflows,
    Namespace::kShifts, Namespace::kFlags,     Namespace::kMeta};
std::string_view ToString(Namespace ns);  // "groups", "instances", ...
bool ParseNamespace(std::string_view s, Namespace* out);

// An ordered list of puts and deletes, possibly across namespaces, applied
// all-or-nothing by Store::Commit. Later operations on the same key win.
// Deleting an absent key is not an error. Keys must be non-empty.
class WriteBatch {
 public:
  enum class OpKind { kPut, kDelete };
  struct Op {
    OpKind kind;
    Namespace ns;
    std::string key;
    std::string value;  // empty for kDelete
  };

  WriteBatch& Put(Namespace ns, std::string key, std::string value);
  WriteBatch& Delete(Namespace ns, std::string key);

  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

// How much history to keep. Either bound, both, or neither (keep all).
struct HistoryRetention {
  std::optional<Duration> max_age;    // drop events with at < now - max_age
  std::optional<uint64_t> max_count;  // keep only the newest max_count
};

class Store {
 public:
  using KeyValues = std::vector<std::pair<std::string, std::string>>;

  virtual ~Store() = default;

  // The value stored under (ns, key), or nullopt when there is none.
  virtual Result<std::optional<std::string>> Get(Namespace ns,
                                                 std::string_view key) = 0;

  // Every (key, value) of ns whose key starts with prefix, in ascending
  // byte order of key. An empty prefix lists the whole namespace.
  virtual Result<KeyValues> List(Namespace ns,
                                 std::string_view prefix = "") = 0;

  // Applies the batch atomically. When it returns OK every operation is
  // durable (survives kill -9 of the process; see each implementation for
  // power loss). On error nothing of the batch is applied. An empty batch
  // is OK and does nothing. kInvalidArgument for an empty key.
  virtual Status Commit(const WriteBatch& batch) = 0;

  // Appends events to the history atomically and durably (as Commit).
  // An event with seq == 0 gets the next seq (LastHistorySeq() + 1, in
  // order); a nonzero seq is kept and must be greater than every seq stored
  // or earlier in the batch (kInvalidArgument otherwise, nothing stored).
  virtual Status AppendHistory(const std::vector<HistoryEvent>& events) = 0;

  // The events matching q, with exactly MemoryHistory's semantics: the
  // newest q.limit matches, returned oldest first.
  virtual Result<std::vector<HistoryEvent>> QueryHistory(
      const HistoryQuery& q) = 0;

  // The highest seq ever appended (0 when none). Never decreases, even when
  // pruning removed every event, so seq numbers continue after a restart.
  virtual Result<uint64_t> LastHistorySeq() = 0;

  // Deletes history beyond the retention bounds (age measured against
  // `now`, the caller's Clock::WallNow()). Atomic and durable.
  virtual Status PruneHistory(const HistoryRetention& retention,
                              WallTime now) = 0;
};

// Checks a batch before applying it: kInvalidArgument naming the first bad
// operation. Shared by the implementations so they reject the same input.
Status ValidateBatch(const WriteBatch& batch);

// The seq AppendHistory stores for `e` when the previous event got `prev`.
inline uint64_t StoredSeq(const HistoryEvent& e, uint64_t prev) {
  return e.seq == 0 ? prev + 1 : e.seq;
}

// Checks that the seqs AppendHistory would store increase past `last_seq`.
// Returns the new last seq, or kInvalidArgument naming the bad seq.
Result<uint64_t> CheckHistorySeqs(const std::vector<HistoryEvent>& events,
                                  uint64_t last_seq);

// kInvalidArgument for a negative max_age.
Status ValidateRetention(const HistoryRetention& retention);

// "Commit(3 writes)" — the operation name used in error messages.
std::string DescribeBatch(const WriteBatch& batch);

}  // namespace lifeline
