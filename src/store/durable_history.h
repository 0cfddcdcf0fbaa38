// DurableHistory: a History (history/history.h) whose events are persisted
// to a Store, with the newest ones kept in memory for fast queries.
//
// Append() assigns the seq, tells listeners, keeps the event in memory and
// queues it; a background writer thread commits queued events to the store
// in batches (group commit: whatever queued up while the previous commit
// was in flight goes into the next one, up to Options::max_batch).
//
// Durability, exactly: an event is durable once the writer's commit that
// contains it returned OK — in particular once a Flush() that started after
// its Append() returns OK. Events still queued when the process dies are
// lost; Flush() is the acknowledgement point. Seq numbers continue after a
// restart (Open reads Store::LastHistorySeq).
//
// When the store fails, the batch stays queued and is retried on the next
// Append at least Options::retry_interval (on the injected Clock) after the
// failure, or at once on Flush(). If more than Options::max_pending events
// are queued, the oldest are dropped (counted in stats().dropped) so that a
// long store outage cannot exhaust memory; the next Flush() reports it.
//
// Queries are answered from memory when memory alone determines the answer,
// otherwise merged with Store::QueryHistory. Events that were evicted from
// memory before they were committed are not visible until committed.
//
// Retention: after a commit, if Options::retention sets a bound and
// Options::prune_interval has passed since the last prune, the writer
// prunes the store (and the in-memory copy) against Clock::WallNow().
//
// Thread-safety: all methods are thread-safe. Listeners run on the
// appending thread, one Append at a time, in seq order. The Store and Clock
// must outlive this object.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "history/history.h"
#include "store/store.h"

namespace lifeline {

class DurableHistory final : public History {
 public:
  struct Options {
    size_t memory_capacity = 100000;  // newest events kept in memory
    size_t max_batch = 10000;         // events per store commit, at most
    size_t max_pending = 1000000;     // queued events before dropping
    Duration retry_interval = seconds(1);
    HistoryRetention retention;  // unbounded unless set
    Duration prune_interval = minutes(1);
  };

  struct Stats {
    uint64_t appended = 0;   // Append calls since Open
    uint64_t committed = 0;  // events committed since Open
    uint64_t pending = 0;    // appended, not committed, not dropped
    uint64_t dropped = 0;    // dropped unpersisted (see class comment)
    uint64_t commits = 0;    // successful store commits
    uint64_t commit_failures = 0;
    uint64_t last_committed_seq = 0;
  };

  // Reads the last seq and the newest events from `store`, then starts the
  // writer. Fails when the store cannot be read.
  static Result<std::unique_ptr<DurableHistory>> Open(Store& store,
                                                      Clock& clock,
                                                      Options options);
  // Makes one last attempt to commit everything queued, then stops the
  // writer. Call Flush() first to learn whether that succeeded.
  ~DurableHistory() override;

  uint64_t Append(HistoryEvent event) override;
  std::vector<HistoryEvent> Query(const HistoryQuery& q) const override;
  Result<std::vector<HistoryEvent>> TryQuery(
      const HistoryQuery& q) const override;
  void AddListener(Listener l) override;

  // Returns once every event appended before the call is committed (OK),
  // or when a commit attempt that ended after the call failed (that error;
  // the events stay queued and a later Flush retries them at once), or
  // kDataLoss if events were dropped since the previous Flush reported it.
  Status Flush();

  Stats stats() const;
  // The error of the most recent failed commit or prune (OK if none).
  Status last_error() const;

 private:
  // The answer to `q`, or the store's error when memory alone cannot give
  // it (memory's part is left in *memory_part).
  Result<std::vector<HistoryEvent>> Answer(
      const HistoryQuery& q, std::vector<HistoryEvent>* memory_part) const;
  DurableHistory(Store& store, Clock& clock, Options options);
  void WriterLoop();
  // Commits one batch from pending_. Requires `lock` held on mu_; releases
  // it during the store call.
  void CommitOneBatch(std::unique_lock<std::mutex>& lock);
  void MaybePrune(std::unique_lock<std::mutex>& lock);
  // Applies the retention to the events of recent_ with seq <= upto (those
  // the store had when it was pruned). Requires mu_.
  void PruneMemory(WallTime now, uint64_t upto);
  bool WriterHasWork() const;  // requires mu_
  void DropExcess();           // requires mu_

  Store& store_;
  Clock& clock_;
  const Options options_;

  std::mutex append_mu_;             // serializes Append and listeners
  std::vector<Listener> listeners_;  // guarded by append_mu_
  uint64_t next_seq_ = 1;            // guarded by append_mu_

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;   // wakes the writer
  std::condition_variable flushed_cv_;  // wakes Flush() callers
  // Guarded by mu_:
  uint64_t last_queued_seq_ = 0;      // newest seq whose Append finished
  std::deque<HistoryEvent> recent_;   // newest memory_capacity, by seq
  bool recent_complete_ = false;      // recent_ holds every stored event
  std::deque<HistoryEvent> pending_;  // queued, oldest first
  size_t in_flight_ = 0;              // events in the running commit
  bool writer_waiting_ = false;
  bool flush_requested_ = false;
  bool failed_ = false;  // the last commit attempt failed
  MonoTime retry_at_{};  // earliest retry after a failure
  MonoTime prune_at_{};  // next prune
  bool stop_ = false;
  uint64_t dropped_unreported_ = 0;
  Status last_error_;
  Stats stats_;

  std::thread writer_;  // started last, joined in the destructor
};

}  // namespace lifeline
