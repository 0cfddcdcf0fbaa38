#include "heartbeat/heartbeat_service.h"

#include "heartbeat/kernel_stats.h"

namespace lifeline::heartbeat {

uint64_t HeartbeatStats::dropped_total() const {
  uint64_t n = 0;
  for (uint64_t d : dropped) n += d;
  return n;
}

HeartbeatService::HeartbeatService(HeartbeatServiceConfig config,
                                   const Clock& clock, EventLoop& loop,
                                   HeartbeatSink sink)
    : config_(std::move(config)),
      clock_(clock),
      controller_(loop),
      sink_(std::make_shared<HeartbeatSink>(std::move(sink))),
      detector_(config_.detector, config_.shards, clock.Now()) {
  receiver_ = std::make_unique<UdpReceiver>(config_.receiver, clock_, detector_,
                                            keys_, config_.clock_skew);
}

Result<std::unique_ptr<HeartbeatService>> HeartbeatService::Create(
    HeartbeatServiceConfig config, const Clock& clock,
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
  std::unique_ptr<HeartbeatService> s(new HeartbeatService(
      std::move(config), clock, controller_loop, std::move(sink)));
  s->keys_.Set(std::move(ring.value()));
  return s;
}

HeartbeatService::~HeartbeatService() { Stop(); }

Status HeartbeatService::Start() {
  if (running_) return FailedPrecondition("heartbeat service: already started");
  auto base = ReadUdpRcvbufErrors();
  kernel_base_ = base.ok() ? *base : 0;
  LIFELINE_RETURN_IF_ERROR(receiver_->Start());
  ticker_ = std::make_unique<RealLoop>(clock_);
  if (!ticker_->init_status().ok()) {
    receiver_->Stop();
    return ticker_->init_status();
  }
  tick_ = [this] {
    Tick();
    ticker_->RunAfter(config_.detector.tick, tick_);
  };
  ticker_->RunAfter(config_.detector.tick, tick_);
  ticker_thread_ = std::thread([this] { ticker_->Run(); });
  running_ = true;
  return Status::Ok();
}

void HeartbeatService::Stop() {
  if (!running_) return;
  ticker_->Stop();
  ticker_thread_.join();
  ticker_.reset();
  receiver_->Stop();
  running_ = false;
}

void HeartbeatService::Tick() {
  // Judge silence only up to where every receiver has drained its socket.
  MonoTime now = std::min(clock_.Now(), receiver_->drained_until());
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

Status HeartbeatService::Track(std::string_view instance_id,
                               std::string_view group, Duration grace) {
  return detector_.Track(instance_id, group, clock_.Now(), grace);
}

Status HeartbeatService::Untrack(std::string_view instance_id) {
  return detector_.Untrack(instance_id);
}

Status HeartbeatService::SetKeys(std::vector<HeartbeatKey> keys) {
  auto ring = KeyRing::Create(std::move(keys));
  if (!ring.ok()) return ring.status();
  keys_.Set(std::move(ring.value()));
  return Status::Ok();
}

HeartbeatStats HeartbeatService::stats() const {
  HeartbeatStats s;
  for (const auto& c : receiver_->counters()) {
    s.datagrams_received += c->datagrams.load(std::memory_order_relaxed);
    s.datagrams_authenticated +=
        c->authenticated.load(std::memory_order_relaxed);
    s.entries_accepted += c->entries_accepted.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kDropReasonCount; ++i) {
      s.dropped[i] += c->dropped[i].load(std::memory_order_relaxed);
    }
  }
  auto kernel = ReadUdpRcvbufErrors();
  if (kernel.ok() && *kernel >= kernel_base_) {
    s.kernel_rcvbuf_errors = *kernel - kernel_base_;
  }
  s.tracked = detector_.tracked();
  s.transitions = transitions_.load(std::memory_order_relaxed);
  s.load_reports = load_reports_.load(std::memory_order_relaxed);
  s.own_stalls = detector_.stalls_detected();
  s.rcvbuf_bytes = receiver_->effective_rcvbuf();
  return s;
}

}  // namespace lifeline::heartbeat
