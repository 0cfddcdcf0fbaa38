// ShardedDetector: FailureDetector split into lock-protected shards by
// instance id, so receiver threads, the ticking thread and API threads can
// use it at once. Also the registry of group names.
//
// Thread-safety: every method is thread-safe. Each shard's mutex guards
// that shard's detector and its pending output; groups_mu_ guards groups_.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "heartbeat/detector.h"

namespace lifeline::heartbeat {

class ShardedDetector {
 public:
  static constexpr size_t kMaxShards = 256;

  // `shards` is clamped to 1..kMaxShards.
  ShardedDetector(const DetectorConfig& config, size_t shards, MonoTime start);

  // The dense id of a group name, created on first use (at most 65535).
  uint16_t GroupId(std::string_view group);

  Status Track(std::string_view id, std::string_view group, MonoTime now,
               Duration grace = Duration::zero());
  Status Untrack(std::string_view id);

  // Authenticated entries (of one or many datagrams); entries[k] came
  // under a key that speaks for key_groups[k]. The entries are grouped by
  // shard first, so each shard's lock is taken once per call. Unknown ids
  // count as kUnknownInstance.
  void Observe(std::span<const HeartbeatEntry> entries,
               std::span<const uint16_t> key_groups, MonoTime now,
               EntryCounts* counts);

  // Advances every shard to `now`; appends what they produced (including
  // transitions caused by Observe since the last call).
  void AdvanceTo(MonoTime now, DetectorOutput* out);

  size_t tracked() const;
  uint64_t stalls_detected() const;
  size_t MemoryBytes() const;
  AppHealth health(std::string_view id) const;

 private:
  struct alignas(64) Shard {
    Shard(const DetectorConfig& c, MonoTime start) : detector(c, start) {}
    mutable std::mutex mu;
    FailureDetector detector;  // guarded by mu
    DetectorOutput pending;    // guarded by mu
  };
  size_t ShardOf(std::string_view id) const;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex groups_mu_;
  std::vector<std::string> groups_;  // guarded by groups_mu_
};

}  // namespace lifeline::heartbeat
