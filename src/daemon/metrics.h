// DaemonMetrics: lifelined's Prometheus metrics (prometheus-cpp core
// registry) and their text exposition.
//
// Three kinds of input:
//   - events counted as they happen, from any thread: history events
//     (CountHistoryEvent, from the History listener) and loop lag
//     (ObserveLoopLag, from the stall timer);
//   - a LoopSnapshot of controller state, taken on the loop thread;
//   - thread-safe stats of the heartbeat service and the durable history.
// Render() updates the gauges/counters from the snapshot and stats and
// returns the exposition text (text/plain; version=0.0.4).
//
// Thread-safety: all methods are thread-safe (prometheus-cpp metrics are;
// Render is serialized by a mutex).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "heartbeat/heartbeat_service.h"
#include "history/history.h"
#include "store/durable_history.h"

namespace lifeline {

// Controller state for the metrics, copied on the loop thread.
struct LoopSnapshot {
  struct ZoneRow {
    std::string group, zone;
    ZoneCounts counts;
  };
  std::vector<ZoneRow> zones;
  // (kind, state) -> number of workflows.
  std::map<std::pair<std::string, std::string>, int> workflows;
  ControllerStats stats;
  int ops_in_flight = 0;
  size_t ops_queued = 0;
  uint64_t ops_started = 0;
  uint64_t ops_timeouts = 0;
  bool ready = false;

  static LoopSnapshot Take(const Controller& c);
};

class DaemonMetrics {
 public:
  DaemonMetrics();
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  void CountHistoryEvent(const HistoryEvent& e);
  void ObserveLoopLag(Duration lag);
  void CountLoopStall();

  std::string Render(const std::optional<LoopSnapshot>& snapshot,
                     const heartbeat::HeartbeatStats* heartbeats,
                     const DurableHistory::Stats& history);

  prometheus::Registry& registry() { return *registry_; }

 private:
  using CounterFamily = prometheus::Family<prometheus::Counter>;
  using GaugeFamily = prometheus::Family<prometheus::Gauge>;
  void ApplySnapshot(const LoopSnapshot& s);
  void ApplyHeartbeats(const heartbeat::HeartbeatStats& h);
  void ApplyHistory(const DurableHistory::Stats& h);

  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex render_mu_;  // serializes Render
  GaugeFamily& instances_;
  GaugeFamily& workflows_;
  CounterFamily& controller_total_;
  CounterFamily& refusals_;
  CounterFamily& history_events_;
  GaugeFamily& provider_calls_;
  CounterFamily& provider_calls_total_;
  CounterFamily& heartbeat_total_;
  CounterFamily& heartbeat_dropped_;
  GaugeFamily& heartbeat_gauges_;
  CounterFamily& history_total_;
  GaugeFamily& history_pending_;
  prometheus::Histogram& loop_lag_;
  prometheus::Counter& loop_stalls_;
  prometheus::Gauge& ready_;
  // Label sets set by the previous Render (reset to 0 when they vanish).
  std::set<std::map<std::string, std::string>> instance_labels_;
  std::set<std::map<std::string, std::string>> workflow_labels_;
};

}  // namespace lifeline
