// ForwardingProvider: a Provider that passes every call, unchanged, to a
// wrapped Provider — the base of wrappers that change only a few calls
// (fault injection, recording, timing), as leveldb's EnvWrapper is for Env.
// A subclass overrides what it changes and calls the base (or inner())
// for the rest.
//
// Thread-safety: none beyond the wrapped provider's; used on the loop
// thread like any Provider. The wrapped provider must outlive the wrapper.
// Completion callbacks are the wrapped provider's, so the Provider contract
// (posted to the loop, never run inside the call) carries over.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "provider/provider.h"

namespace lifeline {

class ForwardingProvider : public Provider {
 public:
  explicit ForwardingProvider(Provider& inner) : inner_(inner) {}
  ForwardingProvider(const ForwardingProvider&) = delete;
  ForwardingProvider& operator=(const ForwardingProvider&) = delete;

  Provider& inner() const { return inner_; }

  std::string_view name() const override { return inner_.name(); }
  void ListZones(Done<std::vector<ZoneInfo>> done) override {
    inner_.ListZones(std::move(done));
  }
  void Launch(const LaunchRequest& request, Done<InstanceInfo> done) override {
    inner_.Launch(request, std::move(done));
  }
  void Terminate(const std::string& instance_id, DoneStatus done) override {
    inner_.Terminate(instance_id, std::move(done));
  }
  void Reboot(const std::string& instance_id, DoneStatus done) override {
    inner_.Reboot(instance_id, std::move(done));
  }
  void Stop(const std::string& instance_id, DoneStatus done) override {
    inner_.Stop(instance_id, std::move(done));
  }
  void Start(const std::string& instance_id, DoneStatus done) override {
    inner_.Start(instance_id, std::move(done));
  }
  void Recover(const std::string& instance_id, DoneStatus done) override {
    inner_.Recover(instance_id, std::move(done));
  }
  void DescribeStatus(const std::vector<std::string>& instance_ids,
                      Done<std::vector<InstanceStatus>> done) override {
    inner_.DescribeStatus(instance_ids, std::move(done));
  }
  void ListInstances(const std::string& group,
                     Done<std::vector<InstanceInfo>> done) override {
    inner_.ListInstances(group, std::move(done));
  }
  void SnapshotVolumes(const std::string& instance_id,
                       Done<std::vector<Snapshot>> done) override {
    inner_.SnapshotVolumes(instance_id, std::move(done));
  }
  void AttachVolume(const std::string& volume_id,
                    const std::string& instance_id, const std::string& device,
                    DoneStatus done) override {
    inner_.AttachVolume(volume_id, instance_id, device, std::move(done));
  }
  void DetachVolume(const std::string& volume_id, DoneStatus done) override {
    inner_.DetachVolume(volume_id, std::move(done));
  }
  void MoveAddress(const std::string& address,
                   const std::string& to_instance_id,
                   DoneStatus done) override {
    inner_.MoveAddress(address, to_instance_id, std::move(done));
  }
  void SetStatusSink(StatusSink sink) override {
    inner_.SetStatusSink(std::move(sink));
  }

 private:
  Provider& inner_;
};

}  // namespace lifeline
