// DatagramProcessor: what a receiver thread does with one datagram —
// parse, look up the key, verify the tag, check each entry's timestamp
// against the clock-skew window, and hand the entries to the detector.
// Every refusal is counted by reason and changes no state.
//
// KeyStore holds the current KeyRing; SetKeys() swaps it at run time (key
// rotation). Each processor keeps its own keyed HMAC contexts and rebuilds
// them when the store's version changes.
//
// Thread-safety: KeyStore and ReceiverCounters are thread-safe. A
// DatagramProcessor belongs to one thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "heartbeat/mac.h"
#include "heartbeat/sharded_detector.h"
#include "heartbeat/wire.h"

namespace lifeline::heartbeat {

class KeyStore {
 public:
  void Set(std::shared_ptr<const KeyRing> ring);
  std::shared_ptr<const KeyRing> Get() const;
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const KeyRing> ring_;  // guarded by mu_
  std::atomic<uint64_t> version_{0};
};

// One receiver thread's counters; read by any thread (relaxed).
struct alignas(64) ReceiverCounters {
  std::atomic<uint64_t> datagrams{0};      // received
  std::atomic<uint64_t> authenticated{0};  // passed parse + MAC
  std::atomic<uint64_t> entries_accepted{0};
  std::atomic<uint64_t> dropped[kDropReasonCount] = {};
};

class DatagramProcessor {
 public:
  DatagramProcessor(ShardedDetector& detector, const KeyStore& keys,
                    Duration clock_skew, ReceiverCounters& counters);
  ~DatagramProcessor();

  // Returns the datagram-level verdict (kNone when authenticated; entries
  // may still have been refused one by one, counted per entry).
  DropReason Process(std::span<const uint8_t> bytes, MonoTime now,
                     WallTime wall_now);
  // A receiver's batch (one recvmmsg): every datagram is verified, then the
  // entries of all authenticated ones are observed together (one lock per
  // detector shard, overlapped lookups). Counted as Process counts.
  void ProcessBatch(std::span<const std::span<const uint8_t>> datagrams,
                    MonoTime now, WallTime wall_now);

 private:
  void Reload();
  // Parses and authenticates one datagram and appends its fresh entries.
  DropReason Verify(std::span<const uint8_t> bytes, int64_t wall_us);
  // Observes the appended entries and clears them.
  void Flush(MonoTime now);
  void Count(DropReason r, uint64_t n = 1) {
    counters_.dropped[static_cast<size_t>(r)].fetch_add(
        n, std::memory_order_relaxed);
  }

  ShardedDetector& detector_;
  const KeyStore& keys_;
  int64_t skew_us_;
  ReceiverCounters& counters_;
  uint64_t version_ = ~0ull;
  std::shared_ptr<const KeyRing> ring_;
  std::vector<std::unique_ptr<HmacSha256>>
      macs_;                      // parallel to ring_->entries()
  std::vector<uint16_t> groups_;  // detector group per key
  std::unique_ptr<ParsedDatagram> parsed_;
  std::vector<HeartbeatEntry> fresh_;  // entries awaiting Flush
  std::vector<uint16_t> fresh_groups_;  // their key's detector group
};

}  // namespace lifeline::heartbeat
