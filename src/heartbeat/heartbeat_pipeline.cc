#include "heartbeat/heartbeat_pipeline.h"

namespace lifeline::heartbeat {

HeartbeatPipeline::HeartbeatPipeline(const HeartbeatServiceConfig& config,
                                     const Clock& clock, EventLoop& loop,
                                     HeartbeatSink sink)
    : clock_(clock),
      controller_(loop),
      sink_(std::make_shared<HeartbeatSink>(std::move(sink))),
      detector_(config.detector, config.shards, clock.Now()) {}

Result<std::unique_ptr<HeartbeatPipeline>> HeartbeatPipeline::Create(
    const HeartbeatServiceConfig& config, const Clock& clock,
    EventLoop& controller_loop, HeartbeatSink sink) {
  if (!sink.on_transition) {
    return InvalidArgument("heartbeat service: sink.on_transition is required");
  }
  const DetectorConfig& d = config.detector;
  if (d.phi_suspect <= 0 || d.phi_failed < d.phi_suspect) {
    return InvalidArgument(
        "heartbeat service: need 0 < phi_suspect <= phi_failed");
  }
  if (d.expected_interval <= Duration::zero() || d.tick <= Duration::zero()) {
    return InvalidArgument("heartbeat service: interval and tick must be > 0");
  }
  auto ring = KeyRing::Create(config.keys);
  if (!ring.ok()) return ring.status();
  std::unique_ptr<HeartbeatPipeline> p(
      new HeartbeatPipeline(config, clock, controller_loop, std::move(sink)));
  p->keys_.Set(std::move(ring.value()));
  return p;
}

void HeartbeatPipeline::Tick(MonoTime now) {
  detector_.AdvanceTo(now, &out_);
  if (out_.empty()) return;
  transitions_.fetch_add(out_.transitions.size(), std::memory_order_relaxed);
  load_reports_.fetch_add(out_.loads.size(), std::memory_order_relaxed);
  auto batch = std::make_shared<DetectorOutput>(std::move(out_));
  out_ = DetectorOutput{};
  controller_.Post([sink = sink_, batch] {
    for (const auto& t : batch->transitions) sink->on_transition(t);
    if (sink->on_load) {
      for (const auto& l : batch->loads) sink->on_load(l);
    }
  });
}

Status HeartbeatPipeline::Track(std::string_view instance_id,
                                std::string_view group, Duration grace) {
  return detector_.Track(instance_id, group, clock_.Now(), grace);
}

Status HeartbeatPipeline::Untrack(std::string_view instance_id) {
  return detector_.Untrack(instance_id);
}

Status HeartbeatPipeline::SetKeys(std::vector<HeartbeatKey> keys) {
  auto ring = KeyRing::Create(std::move(keys));
  if (!ring.ok()) return ring.status();
  keys_.Set(std::move(ring.value()));
  return Status::Ok();
}

}  // namespace lifeline::heartbeat
