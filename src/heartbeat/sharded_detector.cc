#include "heartbeat/sharded_detector.h"

#include <algorithm>
#include <functional>

namespace lifeline::heartbeat {

ShardedDetector::ShardedDetector(const DetectorConfig& config, size_t shards,
                                 MonoTime start) {
  shards = std::clamp<size_t>(shards, 1, kMaxShards);
  for (size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(config, start));
  }
}

size_t ShardedDetector::ShardOf(std::string_view id) const {
  if (shards_.size() == 1) return 0;
  // A different hash than IdTable's, so shards do not skew its probing.
  uint64_t h = 1469598103934665603ull;
  for (char c : id) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h % shards_.size();
}

uint16_t ShardedDetector::GroupId(std::string_view group) {
  std::lock_guard<std::mutex> lock(groups_mu_);
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i] == group) return static_cast<uint16_t>(i);
  }
  if (groups_.size() >= 0xffff) return 0xffff;
  groups_.emplace_back(group);
  return static_cast<uint16_t>(groups_.size() - 1);
}

Status ShardedDetector::Track(std::string_view id, std::string_view group,
                              MonoTime now, Duration grace) {
  uint16_t g = GroupId(group);
  if (g == 0xffff) {
    return ResourceExhausted("heartbeat: Track(" + std::string(id) +
                             "): too many groups");
  }
  Shard& s = *shards_[ShardOf(id)];
  std::lock_guard<std::mutex> lock(s.mu);
  return s.detector.Track(id, g, now, grace);
}

Status ShardedDetector::Untrack(std::string_view id) {
  Shard& s = *shards_[ShardOf(id)];
  std::lock_guard<std::mutex> lock(s.mu);
  return s.detector.Untrack(id);
}

void ShardedDetector::Observe(std::span<const HeartbeatEntry> entries,
                              std::span<const uint16_t> key_groups,
                              MonoTime now, EntryCounts* counts) {
  // Counting sort of the entry positions by shard. The scratch belongs to
  // the calling (receiver) thread and keeps its capacity.
  thread_local std::vector<uint32_t> shard_of, order;
  size_t n_shards = shards_.size();
  shard_of.resize(entries.size());
  order.resize(entries.size());
  uint32_t start[kMaxShards + 1] = {};
  for (size_t k = 0; k < entries.size(); ++k) {
    shard_of[k] = static_cast<uint32_t>(ShardOf(entries[k].instance_id));
    ++start[shard_of[k] + 1];
  }
  for (size_t i = 1; i <= n_shards; ++i) start[i] += start[i - 1];
  uint32_t fill[kMaxShards];
  std::copy(start, start + n_shards, fill);
  for (size_t k = 0; k < entries.size(); ++k) {
    order[fill[shard_of[k]]++] = static_cast<uint32_t>(k);
  }
  for (size_t i = 0; i < n_shards; ++i) {
    if (start[i] == start[i + 1]) continue;
    Shard& s = *shards_[i];
    std::lock_guard<std::mutex> lock(s.mu);
    s.detector.ObserveBatch(
        entries, key_groups,
        std::span<const uint32_t>(order.data() + start[i],
                                  start[i + 1] - start[i]),
        now, &s.pending, counts);
  }
}

void ShardedDetector::AdvanceTo(MonoTime now, DetectorOutput* out) {
  for (auto& sp : shards_) {
    std::lock_guard<std::mutex> lock(sp->mu);
    sp->detector.AdvanceTo(now, &sp->pending);
    if (sp->pending.empty()) continue;
    for (auto& t : sp->pending.transitions)
      out->transitions.push_back(std::move(t));
    for (auto& l : sp->pending.loads) out->loads.push_back(std::move(l));
    sp->pending.clear();
  }
}

size_t ShardedDetector::tracked() const {
  size_t n = 0;
  for (const auto& sp : shards_) {
    std::lock_guard<std::mutex> lock(sp->mu);
    n += sp->detector.tracked();
  }
  return n;
}

uint64_t ShardedDetector::stalls_detected() const {
  std::lock_guard<std::mutex> lock(shards_[0]->mu);
  return shards_[0]->detector.stalls_detected();
}

size_t ShardedDetector::MemoryBytes() const {
  size_t n = 0;
  for (const auto& sp : shards_) {
    std::lock_guard<std::mutex> lock(sp->mu);
    n += sp->detector.MemoryBytes();
  }
  return n;
}

AppHealth ShardedDetector::health(std::string_view id) const {
  const Shard& s = *shards_[ShardOf(id)];
  std::lock_guard<std::mutex> lock(s.mu);
  return s.detector.health(id);
}

}  // namespace lifeline::heartbeat
