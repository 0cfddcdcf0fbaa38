#include "daemon/metrics.h"

#include <prometheus/text_serializer.h>

namespace lifeline {

namespace {

using prometheus::Labels;

// Raises a counter mirroring an external running total to `total`.
void MirrorCounter(prometheus::Counter& c, double total) {
  double delta = total - c.Value();
  if (delta > 0) c.Increment(delta);
}

}  // namespace

LoopSnapshot LoopSnapshot::Take(const Controller& c) {
  LoopSnapshot s;
  for (const auto& g : c.GroupNames()) {
    for (const auto& [zone, counts] : c.ZoneCountsOf(g)) {
      s.zones.push_back({g, zone, counts});
    }
  }
  for (const auto& [id, wf] : c.workflows()) {
    ++s.workflows[{std::string(ToString(wf.kind)),
                   std::string(ToString(wf.state))}];
  }
  s.stats = c.stats();
  s.ops_in_flight = c.ops().in_flight();
  s.ops_queued = c.ops().queued();
  s.ops_started = c.ops().started();
  s.ops_timeouts = c.ops().timeouts();
  s.ready = c.ready();
  return s;
}

DaemonMetrics::DaemonMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      instances_(prometheus::BuildGauge()
                     .Name("lifeline_instances")
                     .Help("Instances per group, zone and state (active, "
                           "unhealthy, silent, app_ok, standby, launching)")
                     .Register(*registry_)),
      workflows_(prometheus::BuildGauge()
                     .Name("lifeline_workflows")
                     .Help("In-flight workflows by kind and state")
                     .Register(*registry_)),
      controller_total_(
          prometheus::BuildCounter()
              .Name("lifeline_controller_total")
              .Help("Controller decisions and actions by what (decisions, "
                    "approvals, deferrals, launches, terminates, reboots, "
                    "recovers, recoveries_succeeded, recoveries_failed)")
              .Register(*registry_)),
      refusals_(prometheus::BuildCounter()
                    .Name("lifeline_governor_refusals_total")
                    .Help("Actions the safety governor deferred, by rule")
                    .Register(*registry_)),
      history_events_(prometheus::BuildCounter()
                          .Name("lifeline_history_events_total")
                          .Help("History events by kind")
                          .Register(*registry_)),
      provider_calls_(prometheus::BuildGauge()
                          .Name("lifeline_provider_calls")
                          .Help("Provider calls in flight / queued")
                          .Register(*registry_)),
      provider_calls_total_(prometheus::BuildCounter()
                                .Name("lifeline_provider_calls_total")
                                .Help("Provider calls started / timed out")
                                .Register(*registry_)),
      heartbeat_total_(prometheus::BuildCounter()
                           .Name("lifeline_heartbeat_total")
                           .Help("Heartbeat pipeline counters by what")
                           .Register(*registry_)),
      heartbeat_dropped_(prometheus::BuildCounter()
                             .Name("lifeline_heartbeat_dropped_total")
                             .Help("Heartbeat datagrams/entries dropped, by "
                                   "reason (kernel: socket buffer overflow)")
                             .Register(*registry_)),
      heartbeat_gauges_(prometheus::BuildGauge()
                            .Name("lifeline_heartbeat")
                            .Help("Heartbeat pipeline gauges (tracked "
                                  "instances, rcvbuf_bytes)")
                            .Register(*registry_)),
      history_total_(prometheus::BuildCounter()
                         .Name("lifeline_history_total")
                         .Help("Durable history: appended, committed, "
                               "dropped, commit_failures")
                         .Register(*registry_)),
      history_pending_(prometheus::BuildGauge()
                           .Name("lifeline_history_pending")
                           .Help("History events appended, not yet committed")
                           .Register(*registry_)),
      loop_lag_(prometheus::BuildHistogram()
                    .Name("lifeline_loop_lag_seconds")
                    .Help("Lateness of the controller loop's periodic timer")
                    .Register(*registry_)
                    .Add({},
                         prometheus::Histogram::BucketBoundaries{
                             0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})),
      loop_stalls_(prometheus::BuildCounter()
                       .Name("lifeline_loop_stalls_total")
                       .Help("Loop stalls longer than safety.stall_threshold")
                       .Register(*registry_)
                       .Add({})),
      ready_(prometheus::BuildGauge()
                 .Name("lifeline_ready")
                 .Help("1 when adoption is done and evidence is fresh")
                 .Register(*registry_)
                 .Add({})) {}

void DaemonMetrics::CountHistoryEvent(const HistoryEvent& e) {
  history_events_.Add({{"kind", std::string(ToString(e.kind))}}).Increment();
  if (e.kind == EventKind::kRefusal) {
    refusals_.Add({{"rule", e.rule.empty() ? "unknown" : e.rule}}).Increment();
  }
}

void DaemonMetrics::ObserveLoopLag(Duration lag) {
  loop_lag_.Observe(ToSeconds(lag));
}

void DaemonMetrics::CountLoopStall() { loop_stalls_.Increment(); }

void DaemonMetrics::ApplySnapshot(const LoopSnapshot& s) {
  std::set<Labels> seen;
  auto set = [&](const std::string& g, const std::string& z, const char* state,
                 int v) {
    Labels l{{"group", g}, {"zone", z}, {"state", state}};
    instances_.Add(l).Set(v);
    seen.insert(l);
  };
  for (const auto& row : s.zones) {
    set(row.group, row.zone, "active", row.counts.active);
    set(row.group, row.zone, "unhealthy", row.counts.unhealthy);
    set(row.group, row.zone, "silent", row.counts.silent);
    set(row.group, row.zone, "app_ok", row.counts.app_ok);
    set(row.group, row.zone, "standby", row.counts.standby);
    set(row.group, row.zone, "launching", row.counts.launching);
  }
  for (const auto& l : instance_labels_) {
    if (!seen.count(l)) instances_.Add(l).Set(0);
  }
  instance_labels_ = std::move(seen);

  std::set<Labels> wseen;
  for (const auto& [key, n] : s.workflows) {
    Labels l{{"kind", key.first}, {"state", key.second}};
    workflows_.Add(l).Set(n);
    wseen.insert(l);
  }
  for (const auto& l : workflow_labels_) {
    if (!wseen.count(l)) workflows_.Add(l).Set(0);
  }
  workflow_labels_ = std::move(wseen);

  const ControllerStats& st = s.stats;
  for (auto [what, v] :
       {std::pair{"decisions", st.decisions},
        std::pair{"approvals", st.approvals},
        std::pair{"deferrals", st.deferrals},
        std::pair{"launches", st.launches},
        std::pair{"terminates", st.terminates},
        std::pair{"reboots", st.reboots}, std::pair{"recovers", st.recovers},
        std::pair{"recoveries_succeeded", st.recoveries_succeeded},
        std::pair{"recoveries_failed", st.recoveries_failed}}) {
    MirrorCounter(controller_total_.Add({{"what", what}}),
                  static_cast<double>(v));
  }
  provider_calls_.Add({{"state", "in_flight"}}).Set(s.ops_in_flight);
  provider_calls_.Add({{"state", "queued"}})
      .Set(static_cast<double>(s.ops_queued));
  MirrorCounter(provider_calls_total_.Add({{"what", "started"}}),
                static_cast<double>(s.ops_started));
  MirrorCounter(provider_calls_total_.Add({{"what", "timeouts"}}),
                static_cast<double>(s.ops_timeouts));
  ready_.Set(s.ready ? 1 : 0);
}

void DaemonMetrics::ApplyHeartbeats(const heartbeat::HeartbeatStats& h) {
  for (auto [what, v] :
       {std::pair{"datagrams_received", h.datagrams_received},
        std::pair{"datagrams_authenticated", h.datagrams_authenticated},
        std::pair{"entries_accepted", h.entries_accepted},
        std::pair{"transitions", h.transitions},
        std::pair{"load_reports", h.load_reports},
        std::pair{"detector_stalls", h.own_stalls}}) {
    MirrorCounter(heartbeat_total_.Add({{"what", what}}),
                  static_cast<double>(v));
  }
  for (size_t i = 1; i < heartbeat::kDropReasonCount; ++i) {
    auto reason = static_cast<heartbeat::DropReason>(i);
    MirrorCounter(
        heartbeat_dropped_.Add({{"reason", std::string(ToString(reason))}}),
        static_cast<double>(h.dropped[i]));
  }
  MirrorCounter(heartbeat_dropped_.Add({{"reason", "kernel"}}),
                static_cast<double>(h.kernel_rcvbuf_errors));
  heartbeat_gauges_.Add({{"what", "tracked"}})
      .Set(static_cast<double>(h.tracked));
  heartbeat_gauges_.Add({{"what", "rcvbuf_bytes"}}).Set(h.rcvbuf_bytes);
}

void DaemonMetrics::ApplyHistory(const DurableHistory::Stats& h) {
  for (auto [what, v] :
       {std::pair{"appended", h.appended}, std::pair{"committed", h.committed},
        std::pair{"dropped", h.dropped},
        std::pair{"commit_failures", h.commit_failures}}) {
    MirrorCounter(history_total_.Add({{"what", what}}), static_cast<double>(v));
  }
  history_pending_.Add({}).Set(static_cast<double>(h.pending));
}

std::string DaemonMetrics::Render(const std::optional<LoopSnapshot>& snapshot,
                                  const heartbeat::HeartbeatStats* heartbeats,
                                  const DurableHistory::Stats& history) {
  std::lock_guard<std::mutex> lock(render_mu_);
  if (snapshot) ApplySnapshot(*snapshot);
  if (heartbeats != nullptr) ApplyHeartbeats(*heartbeats);
  ApplyHistory(history);
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace lifeline
