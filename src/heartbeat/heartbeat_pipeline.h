// HeartbeatPipeline: the heartbeat service without threads or sockets —
// the accepted keys, the sharded failure detector, and the tick that turns
// the detector's output into one batch posted to the controller's loop.
//
// HeartbeatService runs it with UDP receivers and a ticking thread. Tests
// and simulations drive the very same path in simulated time: datagrams go
// through a DatagramProcessor built on detector() and keys(), and Tick(now)
// runs from a SimLoop timer, so what reaches the controller is exactly what
// the daemon would deliver.
//
//   auto p = HeartbeatPipeline::Create(config, clock, controller_loop, sink);
//   p->Track("i-0abc", "web", 30s);
//   DatagramProcessor proc(p->detector(), p->keys(), skew, counters);
//   proc.Process(bytes, clock.Now(), clock.WallNow());
//   p->Tick(clock.Now());   // posts transitions to controller_loop
//
// Thread-safety: Track, Untrack, SetKeys and the accessors are thread-safe.
// Tick is called by one thread at a time. Sink callbacks run on the
// controller loop's thread; the loop must outlive the pipeline.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/status.h"
#include "heartbeat/datagram_processor.h"
#include "heartbeat/detector.h"
#include "heartbeat/mac.h"
#include "heartbeat/receiver.h"
#include "heartbeat/sharded_detector.h"
#include "model/model.h"

namespace lifeline::heartbeat {

struct HeartbeatServiceConfig {
  ReceiverConfig receiver;  // HeartbeatService only
  std::vector<HeartbeatKey> keys;
  DetectorConfig detector;
  size_t shards = 4;
  // Entries whose sender timestamp is further than this from our wall
  // clock are refused as stale.
  Duration clock_skew = std::chrono::seconds(30);
};

struct HeartbeatSink {
  std::function<void(const AppHealthTransition&)> on_transition;
  std::function<void(const LoadReport&)> on_load;  // optional
};

class HeartbeatPipeline {
 public:
  // InvalidArgument for a missing on_transition, inconsistent detector
  // thresholds or a bad key set.
  static Result<std::unique_ptr<HeartbeatPipeline>> Create(
      const HeartbeatServiceConfig& config, const Clock& clock,
      EventLoop& controller_loop, HeartbeatSink sink);
  HeartbeatPipeline(const HeartbeatPipeline&) = delete;
  HeartbeatPipeline& operator=(const HeartbeatPipeline&) = delete;

  // Watch an instance whose heartbeats are signed with a key of `group`.
  // grace zero: the configured default. InvalidArgument for a bad id;
  // AlreadyExists if tracked (its group is updated).
  Status Track(std::string_view instance_id, std::string_view group,
               Duration grace = Duration::zero());
  // NotFound if not tracked.
  Status Untrack(std::string_view instance_id);
  // Replaces the accepted keys (rotation); InvalidArgument leaves the old.
  Status SetKeys(std::vector<HeartbeatKey> keys);

  // Advances the detector to `now` and posts what it produced (transitions
  // and load reports) to the controller loop as one task. Nothing is
  // posted when nothing happened.
  void Tick(MonoTime now);

  ShardedDetector& detector() { return detector_; }
  const ShardedDetector& detector() const { return detector_; }
  const KeyStore& keys() const { return keys_; }
  uint64_t transitions() const {
    return transitions_.load(std::memory_order_relaxed);
  }
  uint64_t load_reports() const {
    return load_reports_.load(std::memory_order_relaxed);
  }

 private:
  HeartbeatPipeline(const HeartbeatServiceConfig& config, const Clock& clock,
                    EventLoop& loop, HeartbeatSink sink);

  const Clock& clock_;
  EventLoop& controller_;
  std::shared_ptr<HeartbeatSink> sink_;
  KeyStore keys_;
  ShardedDetector detector_;
  DetectorOutput out_;  // the ticking thread only
  std::atomic<uint64_t> transitions_{0};
  std::atomic<uint64_t> load_reports_{0};
};

}  // namespace lifeline::heartbeat
