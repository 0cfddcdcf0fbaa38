#include "store/durable_history.h"

#include <algorithm>
#include <iterator>

namespace lifeline {

DurableHistory::DurableHistory(Store& store, Clock& clock, Options options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<DurableHistory>> DurableHistory::Open(Store& store,
                                                             Clock& clock,
                                                             Options options) {
  Result<uint64_t> last = store.LastHistorySeq();
  if (!last.ok()) return last.status().Annotate("history: Open");
  std::vector<HistoryEvent> recent;
  if (options.memory_capacity > 0) {
    HistoryQuery q;
    q.limit = options.memory_capacity;
    auto r = store.QueryHistory(q);
    if (!r.ok()) return r.status().Annotate("history: Open");
    recent = std::move(r).value();
  }
  const size_t capacity = options.memory_capacity;
  std::unique_ptr<DurableHistory> h(
      new DurableHistory(store, clock, std::move(options)));
  h->next_seq_ = *last + 1;
  h->last_queued_seq_ = *last;
  h->stats_.last_committed_seq = *last;
  h->recent_complete_ = recent.size() < capacity;
  h->recent_.assign(std::make_move_iterator(recent.begin()),
                    std::make_move_iterator(recent.end()));
  h->prune_at_ = clock.Now();
  h->writer_ = std::thread(&DurableHistory::WriterLoop, h.get());
  return h;
}

DurableHistory::~DurableHistory() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  writer_.join();
}

uint64_t DurableHistory::Append(HistoryEvent event) {
  std::lock_guard append_lock(append_mu_);
  const uint64_t seq = next_seq_++;
  event.seq = seq;
  for (const auto& l : listeners_) l(event);
  std::lock_guard lock(mu_);
  if (options_.memory_capacity > 0) {
    recent_.push_back(event);
    if (recent_.size() > options_.memory_capacity) {
      recent_.pop_front();
      recent_complete_ = false;
    }
  }
  pending_.push_back(std::move(event));
  last_queued_seq_ = seq;
  ++stats_.appended;
  DropExcess();
  if (writer_waiting_) writer_cv_.notify_one();
  return seq;
}

void DurableHistory::AddListener(Listener l) {
  std::lock_guard append_lock(append_mu_);
  listeners_.push_back(std::move(l));
}

void DurableHistory::DropExcess() {
  while (pending_.size() > options_.max_pending) {
    pending_.pop_front();
    ++stats_.dropped;
    ++dropped_unreported_;
  }
}

namespace {

// Merges two seq-ordered lists into one, keeping one copy of a seq found in
// both (the one from `preferred`).
std::vector<HistoryEvent> MergeBySeq(std::vector<HistoryEvent> other,
                                     std::vector<HistoryEvent> preferred) {
  std::vector<HistoryEvent> merged;
  merged.reserve(other.size() + preferred.size());
  auto a = other.begin(), b = preferred.begin();
  while (a != other.end() || b != preferred.end()) {
    if (b == preferred.end() || (a != other.end() && a->seq < b->seq)) {
      merged.push_back(std::move(*a++));
    } else {
      if (a != other.end() && a->seq == b->seq) ++a;
      merged.push_back(std::move(*b++));
    }
  }
  return merged;
}

}  // namespace

std::vector<HistoryEvent> DurableHistory::Query(const HistoryQuery& q) const {
  std::vector<HistoryEvent> mem;
  auto r = Answer(q, &mem);
  if (r.ok()) return std::move(r).value();
  // The store is down. Newest-first: memory is the best answer. Paging
  // forward: memory's events would make the reader jump past the older
  // ones it cannot see now, so answer nothing rather than a gap.
  if (q.oldest_first) return {};
  return mem;
}

Result<std::vector<HistoryEvent>> DurableHistory::TryQuery(
    const HistoryQuery& q) const {
  std::vector<HistoryEvent> mem;
  return Answer(q, &mem);
}

Result<std::vector<HistoryEvent>> DurableHistory::Answer(
    const HistoryQuery& q, std::vector<HistoryEvent>* memory_part) const {
  std::vector<HistoryEvent>& mem = *memory_part;
  bool memory_suffices = false;
  {
    std::lock_guard lock(mu_);
    // Memory holds every event from recent_.front().seq on, so it decides
    // the answer when it holds everything or reaches back to after_seq.
    const bool reaches_back =
        recent_complete_ ||
        (!recent_.empty() && recent_.front().seq <= q.after_seq + 1);
    if (q.oldest_first) {
      auto it = std::upper_bound(
          recent_.begin(), recent_.end(), q.after_seq,
          [](uint64_t seq, const HistoryEvent& e) { return seq < e.seq; });
      for (; it != recent_.end() && mem.size() < q.limit; ++it) {
        if (Matches(q, *it)) mem.push_back(*it);
      }
      // `limit` matches in memory say nothing here: older ones may be in
      // the store only.
      memory_suffices = reaches_back;
    } else {
      for (auto it = recent_.rbegin();
           it != recent_.rend() && mem.size() < q.limit; ++it) {
        if (it->seq <= q.after_seq) break;
        if (Matches(q, *it)) mem.push_back(*it);
      }
      std::reverse(mem.begin(), mem.end());
      // The newest `limit` matches are all in memory once it found them.
      memory_suffices = reaches_back || mem.size() >= q.limit;
    }
  }
  if (memory_suffices) return mem;
  auto stored = store_.QueryHistory(q);
  if (!stored.ok()) {
    return stored.status().Annotate("history: events older than the " +
                                    std::to_string(mem.size()) +
                                    " in memory are in the store");
  }
  // Each side holds the first (or last) `limit` matches of its own events,
  // so the first (or last) `limit` of the union are among them.
  std::vector<HistoryEvent> merged =
      MergeBySeq(std::move(stored).value(), std::move(mem));
  if (merged.size() > q.limit) {
    const auto excess = static_cast<std::ptrdiff_t>(merged.size() - q.limit);
    if (q.oldest_first) {
      merged.erase(merged.end() - excess, merged.end());
    } else {
      merged.erase(merged.begin(), merged.begin() + excess);
    }
  }
  return merged;
}

Status DurableHistory::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = last_queued_seq_;
  const uint64_t failures_at_start = stats_.commit_failures;
  if (stats_.last_committed_seq < target) {
    flush_requested_ = true;
    writer_cv_.notify_one();
    flushed_cv_.wait(lock, [&] {
      return stats_.last_committed_seq >= target ||
             stats_.commit_failures != failures_at_start ||
             (pending_.empty() && in_flight_ == 0);
    });
  }
  if (dropped_unreported_ > 0) {
    const uint64_t n = dropped_unreported_;
    dropped_unreported_ = 0;
    return DataLoss("history: Flush: " + std::to_string(n) +
                    " events were dropped before they could be stored (more "
                    "than " +
                    std::to_string(options_.max_pending) +
                    " queued while the store was failing; last error: " +
                    last_error_.ToString() + ")");
  }
  if (stats_.last_committed_seq >= target) return Status::Ok();
  return last_error_.Annotate("history: Flush");
}

DurableHistory::Stats DurableHistory::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.pending = pending_.size() + in_flight_;
  return s;
}

Status DurableHistory::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

bool DurableHistory::WriterHasWork() const {
  if (pending_.empty()) return false;
  return !failed_ || flush_requested_ || clock_.Now() >= retry_at_;
}

void DurableHistory::WriterLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    writer_waiting_ = true;
    writer_cv_.wait(lock, [&] { return stop_ || WriterHasWork(); });
    writer_waiting_ = false;
    if (stop_) {
      // One last attempt at everything queued; stop at the first failure.
      failed_ = false;
      while (!pending_.empty() && !failed_) CommitOneBatch(lock);
      flushed_cv_.notify_all();
      return;
    }
    CommitOneBatch(lock);
    MaybePrune(lock);
  }
}

void DurableHistory::CommitOneBatch(std::unique_lock<std::mutex>& lock) {
  flush_requested_ = false;
  const size_t n = std::min(pending_.size(), options_.max_batch);
  std::vector<HistoryEvent> batch;
  batch.reserve(n);
  auto end = pending_.begin() + static_cast<std::ptrdiff_t>(n);
  std::move(pending_.begin(), end, std::back_inserter(batch));
  pending_.erase(pending_.begin(), end);
  in_flight_ = n;

  lock.unlock();
  Status st = store_.AppendHistory(batch);
  lock.lock();

  in_flight_ = 0;
  if (st.ok()) {
    failed_ = false;
    stats_.committed += n;
    ++stats_.commits;
    stats_.last_committed_seq = batch.back().seq;
  } else {
    failed_ = true;
    ++stats_.commit_failures;
    last_error_ = st;
    retry_at_ = clock_.Now() + options_.retry_interval;
    pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
    DropExcess();
  }
  flushed_cv_.notify_all();
}

void DurableHistory::MaybePrune(std::unique_lock<std::mutex>& lock) {
  const HistoryRetention& r = options_.retention;
  if (failed_ || (!r.max_age && !r.max_count)) return;
  const MonoTime now = clock_.Now();
  if (now < prune_at_) return;
  prune_at_ = now + options_.prune_interval;
  const WallTime wall = clock_.WallNow();
  // The store holds exactly the events up to here; memory is pruned over
  // the same events so that both agree.
  const uint64_t upto = stats_.last_committed_seq;
  lock.unlock();
  Status st = store_.PruneHistory(r, wall);
  lock.lock();
  if (!st.ok()) {
    last_error_ = st;
    return;
  }
  PruneMemory(wall, upto);
}

void DurableHistory::PruneMemory(WallTime now, uint64_t upto) {
  const HistoryRetention& r = options_.retention;
  auto committed_end = [&] {
    return std::partition_point(
        recent_.begin(), recent_.end(),
        [&](const HistoryEvent& e) { return e.seq <= upto; });
  };
  if (r.max_count) {
    const auto n = static_cast<uint64_t>(committed_end() - recent_.begin());
    if (n > *r.max_count) {
      recent_.erase(
          recent_.begin(),
          recent_.begin() + static_cast<std::ptrdiff_t>(n - *r.max_count));
    }
  }
  if (r.max_age) {
    const WallTime cutoff = now - *r.max_age;
    auto end = committed_end();
    recent_.erase(
        std::remove_if(recent_.begin(), end,
                       [&](const HistoryEvent& e) { return e.at < cutoff; }),
        end);
  }
}

}  // namespace lifeline
