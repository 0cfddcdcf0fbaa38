// HeartbeatService: the heartbeat pipeline as one object for the daemon.
//
// It owns the UDP receivers (N threads), the sharded failure detector and a
// ticking thread, and tells the controller only about transitions: batches
// of AppHealthTransition and rate-limited LoadReport values are posted to
// the controller's EventLoop and delivered through the sink there, never
// once per packet.
//
//   HeartbeatService::Create(config, clock, controller_loop, sink)
//   svc->Track("i-0abc", "web", 30s);   // any thread, before or after Start
//   svc->Start();                        // binds, starts threads
//   svc->stats();                        // for /metrics
//   svc->Stop();                         // joins threads; idempotent
//
// The work itself (keys, detector, the tick that posts transitions) is a
// HeartbeatPipeline (heartbeat_pipeline.h), which tests and simulations
// drive in simulated time without sockets or threads.
//
// Thread-safety: Track, Untrack, SetKeys, stats and health are thread-safe.
// Start and Stop are called by the owner. Sink callbacks run on the
// controller loop's thread. The EventLoop must outlive the service.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/real_loop.h"
#include "core/status.h"
#include "heartbeat/datagram_processor.h"
#include "heartbeat/detector.h"
#include "heartbeat/heartbeat_pipeline.h"
#include "heartbeat/mac.h"
#include "heartbeat/receiver.h"
#include "heartbeat/sharded_detector.h"
#include "model/model.h"

namespace lifeline::heartbeat {

// Counters for /metrics. Drop reasons malformed..bad_mac count datagrams;
// stale..wrong_group count entries.
struct HeartbeatStats {
  uint64_t datagrams_received = 0;
  uint64_t datagrams_authenticated = 0;
  uint64_t entries_accepted = 0;
  std::array<uint64_t, kDropReasonCount> dropped{};
  uint64_t kernel_rcvbuf_errors = 0;  // host-wide, since Start
  uint64_t tracked = 0;
  uint64_t transitions = 0;
  uint64_t load_reports = 0;
  uint64_t own_stalls = 0;  // detector stalls detected (B8)
  int rcvbuf_bytes = 0;     // effective SO_RCVBUF
  uint64_t dropped_total() const;
};

class HeartbeatService {
 public:
  static Result<std::unique_ptr<HeartbeatService>> Create(
      HeartbeatServiceConfig config, const Clock& clock,
      EventLoop& controller_loop, HeartbeatSink sink);
  ~HeartbeatService();
  HeartbeatService(const HeartbeatService&) = delete;
  HeartbeatService& operator=(const HeartbeatService&) = delete;

  Status Start();
  void Stop();

  // Watch an instance whose heartbeats are signed with a key of `group`.
  // grace zero: the configured default. InvalidArgument for a bad id;
  // AlreadyExists if tracked (its group is updated).
  Status Track(std::string_view instance_id, std::string_view group,
               Duration grace = Duration::zero());
  // NotFound if not tracked.
  Status Untrack(std::string_view instance_id);
  // Replaces the accepted keys (rotation); InvalidArgument leaves the old.
  Status SetKeys(std::vector<HeartbeatKey> keys);

  HeartbeatStats stats() const;
  AppHealth health(std::string_view instance_id) const {
    return pipeline_->detector().health(instance_id);
  }
  // Bound addresses, e.g. "127.0.0.1:40123" (after Start).
  std::vector<std::string> local_addresses() const {
    return receiver_->local_addresses();
  }

 private:
  HeartbeatService(HeartbeatServiceConfig config, const Clock& clock,
                   std::unique_ptr<HeartbeatPipeline> pipeline);
  void Tick();

  HeartbeatServiceConfig config_;
  const Clock& clock_;
  std::unique_ptr<HeartbeatPipeline> pipeline_;
  std::unique_ptr<UdpReceiver> receiver_;
  std::unique_ptr<RealLoop> ticker_;
  std::thread ticker_thread_;
  std::function<void()> tick_;
  uint64_t kernel_base_ = 0;
  bool running_ = false;
};

}  // namespace lifeline::heartbeat
