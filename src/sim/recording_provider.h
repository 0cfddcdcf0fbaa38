// RecordingProvider: forwards to the sim provider and tells an observer of
// every destructive call (terminate, reboot, stop, recover) and every launch
// as it is made, with the target's ground truth at that moment.
#pragma once

#include <functional>
#include <string>

#include "providers/sim/sim_provider.h"

namespace lifeline {

struct DestructiveCall {
  std::string op;  // "terminate", "reboot", "stop", "recover"
  std::string instance;
  std::optional<SimTruth> truth;  // before the call
};

class RecordingProvider final : public Provider {
 public:
  using Observer = std::function<void(const DestructiveCall&)>;
  RecordingProvider(SimProvider& inner, Observer observer)
      : inner_(inner), observer_(std::move(observer)) {}

  std::string_view name() const override { return "sim"; }
  void ListZones(Done<std::vector<ZoneInfo>> d) override { inner_.ListZones(d); }
  void Launch(const LaunchRequest& r, Done<InstanceInfo> d) override {
    inner_.Launch(r, d);
  }
  void Terminate(const std::string& id, DoneStatus d) override {
    Note("terminate", id);
    inner_.Terminate(id, d);
  }
  void Reboot(const std::string& id, DoneStatus d) override {
    Note("reboot", id);
    inner_.Reboot(id, d);
  }
  void Stop(const std::string& id, DoneStatus d) override {
    Note("stop", id);
    inner_.Stop(id, d);
  }
  void Start(const std::string& id, DoneStatus d) override { inner_.Start(id, d); }
  void Recover(const std::string& id, DoneStatus d) override {
    Note("recover", id);
    inner_.Recover(id, d);
  }
  void DescribeStatus(const std::vector<std::string>& ids,
                      Done<std::vector<InstanceStatus>> d) override {
    inner_.DescribeStatus(ids, d);
  }
  void ListInstances(const std::string& g,
                     Done<std::vector<InstanceInfo>> d) override {
    inner_.ListInstances(g, d);
  }
  void SnapshotVolumes(const std::string& id,
                       Done<std::vector<Snapshot>> d) override {
    inner_.SnapshotVolumes(id, d);
  }
  void AttachVolume(const std::string& v, const std::string& i,
                    const std::string& dev, DoneStatus d) override {
    inner_.AttachVolume(v, i, dev, d);
  }
  void DetachVolume(const std::string& v, DoneStatus d) override {
    inner_.DetachVolume(v, d);
  }
  void MoveAddress(const std::string& a, const std::string& i,
                   DoneStatus d) override {
    inner_.MoveAddress(a, i, d);
  }
  void SetStatusSink(StatusSink sink) override {
    inner_.SetStatusSink(std::move(sink));
  }

 private:
  void Note(const char* op, const std::string& id) {
    observer_(DestructiveCall{op, id, inner_.GroundTruth(id)});
  }
  SimProvider& inner_;
  Observer observer_;
};

}  // namespace lifeline
