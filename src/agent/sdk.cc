// The heartbeat SDK (include/lifeline/heartbeat.h) over HeartbeatSender.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/clock.h"
#include "heartbeat/mac.h"
#include "heartbeat/sender.h"
#include "lifeline/heartbeat.h"

struct lifeline_hb {
  lifeline::RealClock clock;
  std::unique_ptr<lifeline::heartbeat::HeartbeatSender> sender;
  std::string instance_id;
  uint32_t interval_ms = 100;
  std::string last_error;
};

namespace {

using lifeline::Status;

int Fail(const Status& s, char* error, size_t error_len) {
  if (error != nullptr && error_len > 0) {
    std::snprintf(error, error_len, "%s", s.message().c_str());
  }
  return -1;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

extern "C" int lifeline_hb_open(const lifeline_hb_options* o, lifeline_hb** out,
                                char* error, size_t error_len) {
  using lifeline::InvalidArgument;
  namespace hb = lifeline::heartbeat;
  if (o == nullptr || out == nullptr) {
    return Fail(InvalidArgument("heartbeat sdk: open: null argument"), error,
                error_len);
  }
  if (o->instance_id == nullptr || !hb::ValidInstanceId(o->instance_id)) {
    return Fail(InvalidArgument("heartbeat sdk: open: instance id must be "
                                "1..64 printable characters"),
                error, error_len);
  }
  if (o->address == nullptr || o->key_file == nullptr) {
    return Fail(
        InvalidArgument("heartbeat sdk: open(" + std::string(o->instance_id) +
                        "): address and key file are required"),
        error, error_len);
  }
  auto secret = hb::ReadKeyFile(o->key_file);
  if (!secret.ok()) return Fail(secret.status(), error, error_len);
  auto h = std::make_unique<lifeline_hb>();
  h->instance_id = o->instance_id;
  h->interval_ms = o->interval_ms == 0 ? 100 : o->interval_ms;
  hb::SenderOptions so;
  so.address = o->address;
  so.key_id = o->key_id;
  so.secret = std::move(secret.value());
  so.interval = std::chrono::milliseconds(h->interval_ms);
  auto sender = hb::HeartbeatSender::Create(so, h->clock);
  if (!sender.ok()) return Fail(sender.status(), error, error_len);
  h->sender = std::move(sender.value());
  *out = h.release();
  return 0;
}

extern "C" int lifeline_hb_open_env(lifeline_hb** out, char* error,
                                    size_t error_len) {
  lifeline_hb_options o{};
  o.instance_id = Env("LIFELINE_INSTANCE_ID");
  o.address = Env("LIFELINE_HEARTBEAT_ADDR");
  o.key_file = Env("LIFELINE_HEARTBEAT_KEY_FILE");
  for (const char* name : {"LIFELINE_INSTANCE_ID", "LIFELINE_HEARTBEAT_ADDR",
                           "LIFELINE_HEARTBEAT_KEY_FILE"}) {
    if (Env(name) == nullptr) {
      return Fail(lifeline::InvalidArgument(std::string("heartbeat sdk: ") +
                                            name + " is not set"),
                  error, error_len);
    }
  }
  if (const char* id = Env("LIFELINE_HEARTBEAT_KEY_ID")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(id, &end, 10);
    if (*end != '\0' || v > 0xffffffffUL) {
      return Fail(lifeline::InvalidArgument(
                      std::string("heartbeat sdk: LIFELINE_HEARTBEAT_KEY_ID=") +
                      id + ": not a 32-bit number"),
                  error, error_len);
    }
    o.key_id = static_cast<uint32_t>(v);
  }
  if (const char* iv = Env("LIFELINE_HEARTBEAT_INTERVAL")) {
    lifeline::Duration d;
    if (!lifeline::ParseDuration(iv, &d) || d < std::chrono::milliseconds(1) ||
        d > std::chrono::hours(1)) {
      return Fail(
          lifeline::InvalidArgument(
              std::string("heartbeat sdk: LIFELINE_HEARTBEAT_INTERVAL=") + iv +
              ": expected a duration like 100ms, 1ms..1h"),
          error, error_len);
    }
    o.interval_ms = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }
  return lifeline_hb_open(&o, out, error, error_len);
}

extern "C" int lifeline_hb_beat_load(lifeline_hb* h, lifeline_hb_status status,
                                     double error_ratio, double latency_ms) {
  namespace hb = lifeline::heartbeat;
  if (h == nullptr) return -1;
  hb::HeartbeatEntry e;
  e.instance_id = h->instance_id;
  e.status = status == LIFELINE_HB_DEGRADED  ? hb::AppStatus::kDegraded
             : status == LIFELINE_HB_FAILING ? hb::AppStatus::kFailing
                                             : hb::AppStatus::kOk;
  if (error_ratio >= 0) {
    e.has_error_ratio = true;
    e.error_ratio_bp = static_cast<uint16_t>(
        std::min(1.0, error_ratio) * hb::kMaxErrorRatioBp + 0.5);
  }
  if (latency_ms >= 0) {
    e.has_latency = true;
    e.latency_us = static_cast<uint32_t>(std::min(latency_ms * 1000.0, 4.0e9));
  }
  Status s = h->sender->Send(std::span<hb::HeartbeatEntry>(&e, 1));
  h->last_error = s.ok() ? "" : s.message();
  return s.ok() ? 0 : -1;
}

extern "C" int lifeline_hb_beat(lifeline_hb* h, lifeline_hb_status status) {
  return lifeline_hb_beat_load(h, status, -1, -1);
}

extern "C" uint32_t lifeline_hb_interval_ms(const lifeline_hb* h) {
  return h == nullptr ? 0 : h->interval_ms;
}

extern "C" const char* lifeline_hb_last_error(const lifeline_hb* h) {
  return h == nullptr ? "" : h->last_error.c_str();
}

extern "C" void lifeline_hb_close(lifeline_hb* h) { delete h; }
