#include "store/memory_store.h"

#include <algorithm>

namespace lifeline {

Result<std::optional<std::string>> MemoryStore::Get(Namespace ns,
                                                    std::string_view key) {
  std::lock_guard lock(mu_);
  auto ns_it = state_.kv.find(ns);
  if (ns_it == state_.kv.end()) return std::optional<std::string>();
  auto it = ns_it->second.find(key);
  if (it == ns_it->second.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<Store::KeyValues> MemoryStore::List(Namespace ns,
                                           std::string_view prefix) {
  std::lock_guard lock(mu_);
  KeyValues out;
  auto ns_it = state_.kv.find(ns);
  if (ns_it == state_.kv.end()) return out;
  for (auto it = ns_it->second.lower_bound(prefix);
       it != ns_it->second.end() && it->first.starts_with(prefix); ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

std::optional<Status> MemoryStore::TakeInjectedFailure() {
  if (fail_count_ <= 0) return std::nullopt;
  --fail_count_;
  return fail_status_;
}

Status MemoryStore::Commit(const WriteBatch& batch) {
  LIFELINE_RETURN_IF_ERROR(ValidateBatch(batch));
  std::lock_guard lock(mu_);
  if (auto st = TakeInjectedFailure()) return *st;
  for (const auto& op : batch.ops()) {
    auto& m = state_.kv[op.ns];
    if (op.kind == WriteBatch::OpKind::kPut) {
      m.insert_or_assign(op.key, op.value);
    } else {
      auto it = m.find(op.key);
      if (it != m.end()) m.erase(it);
    }
  }
  ++commits_;
  return Status::Ok();
}

Status MemoryStore::AppendHistory(const std::vector<HistoryEvent>& events) {
  std::lock_guard lock(mu_);
  auto last = CheckHistorySeqs(events, state_.last_seq);
  if (!last.ok()) return last.status();
  if (auto st = TakeInjectedFailure()) return *st;
  uint64_t seq = state_.last_seq;
  for (const auto& e : events) {
    seq = StoredSeq(e, seq);
    state_.history.push_back(e);
    state_.history.back().seq = seq;
  }
  state_.last_seq = *last;
  ++commits_;
  return Status::Ok();
}

Result<std::vector<HistoryEvent>> MemoryStore::QueryHistory(
    const HistoryQuery& q) {
  std::lock_guard lock(mu_);
  if (!query_failure_.ok()) return query_failure_;
  std::vector<HistoryEvent> out;
  if (q.oldest_first) {
    // The history is in ascending seq: start after after_seq.
    auto it = std::upper_bound(
        state_.history.begin(), state_.history.end(), q.after_seq,
        [](uint64_t seq, const HistoryEvent& e) { return seq < e.seq; });
    for (; it != state_.history.end() && out.size() < q.limit; ++it) {
      if (Matches(q, *it)) out.push_back(*it);
    }
    return out;
  }
  for (auto it = state_.history.rbegin();
       it != state_.history.rend() && out.size() < q.limit; ++it) {
    if (it->seq <= q.after_seq) break;
    if (Matches(q, *it)) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<uint64_t> MemoryStore::LastHistorySeq() {
  std::lock_guard lock(mu_);
  return state_.last_seq;
}

Status MemoryStore::PruneHistory(const HistoryRetention& retention,
                                 WallTime now) {
  LIFELINE_RETURN_IF_ERROR(ValidateRetention(retention));
  std::lock_guard lock(mu_);
  if (auto st = TakeInjectedFailure()) return *st;
  auto& h = state_.history;
  if (retention.max_count) {
    while (h.size() > *retention.max_count) h.pop_front();
  }
  if (retention.max_age) {
    WallTime cutoff = now - *retention.max_age;
    h.erase(
        std::remove_if(h.begin(), h.end(),
                       [&](const HistoryEvent& e) { return e.at < cutoff; }),
        h.end());
  }
  ++commits_;
  return Status::Ok();
}

MemoryStore::State MemoryStore::Snapshot() const {
  std::lock_guard lock(mu_);
  return state_;
}

void MemoryStore::FailQueries(Status status) {
  std::lock_guard lock(mu_);
  query_failure_ = std::move(status);
}

void MemoryStore::FailNext(int count, Status status) {
  std::lock_guard lock(mu_);
  fail_count_ = count;
  fail_status_ = std::move(status);
}

uint64_t MemoryStore::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

}  // namespace lifeline
