#include "heartbeat/heartbeat_service.h"

#include "heartbeat/kernel_stats.h"

namespace lifeline::heartbeat {

uint64_t HeartbeatStats::dropped_total() const {
  uint64_t n = 0;
  for (uint64_t d : dropped) n += d;
  return n;
}

HeartbeatService::HeartbeatService(HeartbeatServiceConfig config,
                                   const Clock& clock,
                                   std::unique_ptr<HeartbeatPipeline> pipeline)
    : config_(std::move(config)),
      clock_(clock),
      pipeline_(std::move(pipeline)) {
  receiver_ = std::make_unique<UdpReceiver>(
      config_.receiver, clock_, pipeline_->detector(), pipeline_->keys(),
      config_.clock_skew);
}

Result<std::unique_ptr<HeartbeatService>> HeartbeatService::Create(
    HeartbeatServiceConfig config, const Clock& clock,
    EventLoop& controller_loop, HeartbeatSink sink) {
  auto pipeline =
      HeartbeatPipeline::Create(config, clock, controller_loop, std::move(sink));
  if (!pipeline.ok()) return pipeline.status();
  return std::unique_ptr<HeartbeatService>(new HeartbeatService(
      std::move(config), clock, std::move(pipeline).value()));
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
  pipeline_->Tick(std::min(clock_.Now(), receiver_->drained_until()));
}

Status HeartbeatService::Track(std::string_view instance_id,
                               std::string_view group, Duration grace) {
  return pipeline_->Track(instance_id, group, grace);
}

Status HeartbeatService::Untrack(std::string_view instance_id) {
  return pipeline_->Untrack(instance_id);
}

Status HeartbeatService::SetKeys(std::vector<HeartbeatKey> keys) {
  return pipeline_->SetKeys(std::move(keys));
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
  s.tracked = pipeline_->detector().tracked();
  s.transitions = pipeline_->transitions();
  s.load_reports = pipeline_->load_reports();
  s.own_stalls = pipeline_->detector().stalls_detected();
  s.rcvbuf_bytes = receiver_->effective_rcvbuf();
  return s;
}

}  // namespace lifeline::heartbeat
