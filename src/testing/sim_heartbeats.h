// SimHeartbeats: a simulated heartbeat network and failure detector for
// whole-fleet simulations. Instead of simulating every datagram (a million
// instances at 10 Hz would be 36 G packets per simulated hour), it turns
// the sim provider's ground truth into the transitions the real detector
// would produce, with the real detector's timing: an instance whose
// application stops answering is suspected after `suspect_after` and
// declared failed after `fail_after`; one that answers again is heard from
// within `first_heartbeat`.
//
// Observer-side faults are simulated too: a partitioned zone (or the whole
// fleet) is silent although its instances are alive — the case the safety
// governor must recognise.
//
// Thread-safety: none; runs on the SimLoop thread.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "controller/controller.h"
#include "core/event_loop.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

struct SimHeartbeatConfig {
  Duration first_heartbeat = std::chrono::milliseconds(100);
  Duration suspect_after = std::chrono::milliseconds(200);
  Duration fail_after = std::chrono::milliseconds(300);
  // A timer firing later than this means the observer itself stalled.
  Duration stall_threshold = std::chrono::milliseconds(50);
};

class SimHeartbeats final : public InstanceObserver {
 public:
  SimHeartbeats(EventLoop& loop, SimProvider& provider, Controller& controller,
                SimHeartbeatConfig config = {});

  // InstanceObserver: the controller tells us what to track.
  void OnInstanceAdded(const InstanceRecord& rec,
                       const GroupSpec& spec) override;
  void OnInstanceRemoved(const std::string& id) override;

  // Observer-side faults: heartbeats from the zone ("" = every zone) stop
  // reaching Lifeline, or reach it again.
  void PartitionZone(const std::string& zone);
  void HealPartition(const std::string& zone);

  // The agent inside reports "failing" although it runs (a bad health-check
  // deploy when applied to many).
  void ReportFailing(const std::string& id, bool failing);

  size_t tracked() const { return tracked_.size(); }
  uint64_t stall_extensions() const { return stall_extensions_; }

 private:
  struct Tracked {
    std::string zone;
    bool heard = false;       // what Lifeline currently believes
    AppHealth state = AppHealth::kUnknown;
    bool agent_failing = false;
    Duration grace{};
    uint64_t epoch = 0;       // cancels stale timers
  };
  bool Audible(const std::string& id, const Tracked& t) const;
  void Arm(const std::string& id, uint64_t epoch, Duration d,
           std::function<void(Tracked&)> fn);
  void Update(const std::string& id);
  void Emit(const std::string& id, AppHealth h, const std::string& source,
            const std::string& reason);

  EventLoop& loop_;
  SimProvider& provider_;
  Controller& controller_;
  // Timers still queued on the loop outlive this object (a simulated
  // Lifeline crash replaces it): they check this before touching it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  SimHeartbeatConfig config_;
  std::unordered_map<std::string, Tracked> tracked_;
  std::set<std::string> partitioned_;  // "" = all
  uint64_t stall_extensions_ = 0;
};

}  // namespace lifeline
