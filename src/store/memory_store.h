// MemoryStore: the Store in process memory, for tests and the simulator.
//
// A "crash" is modelled by Snapshot(): it returns exactly what has been
// committed, and a MemoryStore built from that snapshot is what a restarted
// controller would find on disk. Nothing uncommitted can be in a snapshot,
// because Commit and AppendHistory apply under one lock and all-or-nothing.
//
// Fault injection: FailNext(n, status) makes the next n mutating calls
// (Commit, AppendHistory, PruneHistory) return `status` without applying
// anything, so callers' store-outage paths can be tested.
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <deque>
#include <map>
#include <mutex>

#include "store/store.h"

namespace lifeline {

class MemoryStore final : public Store {
 public:
  // Everything committed: the key-value maps, the history and its
  // high-water seq. A plain value; copy it freely.
  struct State {
    std::map<Namespace, std::map<std::string, std::string, std::less<>>> kv;
    std::deque<HistoryEvent> history;  // ascending seq
    uint64_t last_seq = 0;
  };

  MemoryStore() = default;
  explicit MemoryStore(State committed) : state_(std::move(committed)) {}

  Result<std::optional<std::string>> Get(Namespace ns,
                                         std::string_view key) override;
  Result<KeyValues> List(Namespace ns, std::string_view prefix = "") override;
  Status Commit(const WriteBatch& batch) override;
  Status AppendHistory(const std::vector<HistoryEvent>& events) override;
  Result<std::vector<HistoryEvent>> QueryHistory(
      const HistoryQuery& q) override;
  Result<uint64_t> LastHistorySeq() override;
  Status PruneHistory(const HistoryRetention& retention, WallTime now) override;

  // A copy of the committed state (see the class comment).
  State Snapshot() const;

  // The next `count` mutating calls fail with `status` (which must not be
  // OK) and change nothing.
  void FailNext(int count, Status status);
  // While set (not OK), QueryHistory fails with it: the store cannot be
  // read. OK clears it.
  void FailQueries(Status status);

  // Successful mutating calls so far (Commit, AppendHistory, PruneHistory).
  uint64_t commits() const;

 private:
  // Returns the injected failure, if one is due. Requires mu_.
  std::optional<Status> TakeInjectedFailure();

  mutable std::mutex mu_;
  State state_;           // guarded by mu_
  int fail_count_ = 0;    // guarded by mu_
  Status fail_status_;    // guarded by mu_
  Status query_failure_;  // guarded by mu_
  uint64_t commits_ = 0;  // guarded by mu_
};

}  // namespace lifeline
