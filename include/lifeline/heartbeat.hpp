// C++ wrapper over the heartbeat SDK (heartbeat.h): RAII and std types.
//
//   std::string error;
//   auto hb = lifeline::Heartbeat::FromEnvironment(&error);
//   if (!hb) { ... error ... }
//   hb->Beat();                                  // every hb->interval()
//   hb->Beat(lifeline::Heartbeat::Status::kDegraded, 0.05, 120.0);
//
// Thread-safety: as heartbeat.h — one object per thread or serialised use.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "lifeline/heartbeat.h"

namespace lifeline {

class Heartbeat {
 public:
  enum class Status {
    kOk = LIFELINE_HB_OK,
    kDegraded = LIFELINE_HB_DEGRADED,
    kFailing = LIFELINE_HB_FAILING
  };
  struct Options {
    std::string instance_id;
    std::string address;  // "host:port"
    std::string key_file;
    uint32_t key_id = 0;
    std::chrono::milliseconds interval{100};
  };

  // nullptr and *error set on failure.
  static std::unique_ptr<Heartbeat> Open(const Options& o, std::string* error) {
    lifeline_hb_options c{o.instance_id.c_str(), o.address.c_str(),
                          o.key_file.c_str(), o.key_id,
                          static_cast<uint32_t>(o.interval.count())};
    return Wrap([&](lifeline_hb** hb, char* err,
                    size_t n) { return lifeline_hb_open(&c, hb, err, n); },
                error);
  }
  static std::unique_ptr<Heartbeat> FromEnvironment(std::string* error) {
    return Wrap([](lifeline_hb** hb, char* err,
                   size_t n) { return lifeline_hb_open_env(hb, err, n); },
                error);
  }

  ~Heartbeat() { lifeline_hb_close(hb_); }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // False if the datagram could not be sent (last_error() says why).
  bool Beat(Status s = Status::kOk) {
    return lifeline_hb_beat(hb_, static_cast<lifeline_hb_status>(s)) == 0;
  }
  bool Beat(Status s, std::optional<double> error_ratio,
            std::optional<double> latency_ms) {
    return lifeline_hb_beat_load(hb_, static_cast<lifeline_hb_status>(s),
                                 error_ratio.value_or(-1),
                                 latency_ms.value_or(-1)) == 0;
  }
  std::chrono::milliseconds interval() const {
    return std::chrono::milliseconds(lifeline_hb_interval_ms(hb_));
  }
  std::string last_error() const { return lifeline_hb_last_error(hb_); }

 private:
  explicit Heartbeat(lifeline_hb* hb) : hb_(hb) {}
  template <typename OpenFn>
  static std::unique_ptr<Heartbeat> Wrap(OpenFn open, std::string* error) {
    lifeline_hb* hb = nullptr;
    char err[512] = "";
    if (open(&hb, err, sizeof err) != 0) {
      if (error) *error = err;
      return nullptr;
    }
    return std::unique_ptr<Heartbeat>(new Heartbeat(hb));
  }
  lifeline_hb* hb_;
};

}  // namespace lifeline
