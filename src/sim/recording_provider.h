// RecordingProvider: forwards to the sim provider and tells an observer of
// every destructive call (terminate, reboot, stop, recover) as it is made,
// with the target's ground truth at that moment, and another of every
// launch with its token. Other calls pass through.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "provider/forwarding_provider.h"
#include "providers/sim/sim_provider.h"

namespace lifeline {

struct DestructiveCall {
  std::string op;  // "terminate", "reboot", "stop", "recover"
  std::string instance;
  std::optional<SimTruth> truth;  // before the call
};

class RecordingProvider final : public ForwardingProvider {
 public:
  using Observer = std::function<void(const DestructiveCall&)>;
  using LaunchObserver = std::function<void(const LaunchRequest&)>;
  RecordingProvider(SimProvider& inner, Observer observer,
                    LaunchObserver on_launch)
      : ForwardingProvider(inner),
        sim_(inner),
        observer_(std::move(observer)),
        on_launch_(std::move(on_launch)) {}

  void Launch(const LaunchRequest& r, Done<InstanceInfo> d) override {
    on_launch_(r);
    ForwardingProvider::Launch(r, std::move(d));
  }
  void Terminate(const std::string& id, DoneStatus d) override {
    Note("terminate", id);
    ForwardingProvider::Terminate(id, std::move(d));
  }
  void Reboot(const std::string& id, DoneStatus d) override {
    Note("reboot", id);
    ForwardingProvider::Reboot(id, std::move(d));
  }
  void Stop(const std::string& id, DoneStatus d) override {
    Note("stop", id);
    ForwardingProvider::Stop(id, std::move(d));
  }
  void Recover(const std::string& id, DoneStatus d) override {
    Note("recover", id);
    ForwardingProvider::Recover(id, std::move(d));
  }

 private:
  void Note(const char* op, const std::string& id) {
    observer_(DestructiveCall{op, id, sim_.GroundTruth(id)});
  }
  SimProvider& sim_;
  Observer observer_;
  LaunchObserver on_launch_;
};

}  // namespace lifeline
