// FaultInjectingProvider: wraps any Provider and injects control-plane
// faults by rule, the way leveldb's ErrorEnv wraps an Env. Used to test how
// callers cope with a misbehaving provider whatever the provider is.
//
// Each call is matched against the rules in order; a rule with no `op`
// matches every operation. For a matching rule, in this order:
//   - error_rate: the call fails with error_code without being forwarded
//     (the request never reached the provider);
//   - drop_rate: the call is forwarded but its completion is discarded (a
//     lost response: the operation may have happened, the caller only sees
//     its own timeout);
//   - added_latency + uniform [0, latency_jitter]: the completion (or
//     injected error) is delivered that much later. Delays of all matching
//     rules add up.
// An outage window fails every call made inside it with kUnavailable.
// Everything random draws from the Rng given at construction: the same seed,
// rules and call sequence inject the same faults.
//
// Completions, injected or forwarded, are posted to the EventLoop, never run
// inside the call. Status pushes pass through untouched.
//
// Thread-safety: none; used on the loop thread like any Provider. The inner
// provider and the loop must outlive the wrapper; completions arriving after
// the wrapper is destroyed are dropped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/rng.h"
#include "provider/forwarding_provider.h"

namespace lifeline {

// The operations of the Provider interface.
enum class ProviderOp {
  kListZones,
  kLaunch,
  kTerminate,
  kReboot,
  kStop,
  kStart,
  kRecover,
  kDescribeStatus,
  kListInstances,
  kSnapshotVolumes,
  kAttachVolume,
  kDetachVolume,
  kMoveAddress,
};
inline constexpr size_t kProviderOpCount = 13;
std::string_view ToString(ProviderOp op);

struct FaultRule {
  std::optional<ProviderOp> op;  // nullopt: every operation
  double error_rate = 0;
  StatusCode error_code = StatusCode::kUnavailable;
  // Attached to injected errors (throttling: kResourceExhausted + a hint).
  std::optional<std::chrono::milliseconds> retry_after;
  double drop_rate = 0;
  Duration added_latency{0};
  Duration latency_jitter{0};
};

struct FaultCounters {
  uint64_t calls = 0;
  uint64_t forwarded = 0;
  uint64_t injected_errors = 0;  // outage included
  uint64_t dropped = 0;          // completions discarded
  uint64_t delayed = 0;
};

class FaultInjectingProvider final : public ForwardingProvider {
 public:
  FaultInjectingProvider(Provider& inner, EventLoop& loop, Rng rng);
  ~FaultInjectingProvider() override;
  FaultInjectingProvider(const FaultInjectingProvider&) = delete;
  FaultInjectingProvider& operator=(const FaultInjectingProvider&) = delete;

  // Returns the rule's position. Rules apply from the next call on.
  size_t AddRule(FaultRule rule);
  void ClearRules() { rules_.clear(); }
  const std::vector<FaultRule>& rules() const { return rules_; }
  // Calls made in [from, until) fail kUnavailable without being forwarded.
  void SetOutage(MonoTime from, MonoTime until);
  void ClearOutage() { outage_.reset(); }

  const FaultCounters& counters(ProviderOp op) const {
    return counters_[static_cast<size_t>(op)];
  }

  // ---- Provider ------------------------------------------------------------
  std::string_view name() const override { return name_; }
  void ListZones(Done<std::vector<ZoneInfo>> done) override;
  void Launch(const LaunchRequest& request, Done<InstanceInfo> done) override;
  void Terminate(const std::string& instance_id, DoneStatus done) override;
  void Reboot(const std::string& instance_id, DoneStatus done) override;
  void Stop(const std::string& instance_id, DoneStatus done) override;
  void Start(const std::string& instance_id, DoneStatus done) override;
  void Recover(const std::string& instance_id, DoneStatus done) override;
  void DescribeStatus(const std::vector<std::string>& instance_ids,
                      Done<std::vector<InstanceStatus>> done) override;
  void ListInstances(const std::string& group,
                     Done<std::vector<InstanceInfo>> done) override;
  void SnapshotVolumes(const std::string& instance_id,
                       Done<std::vector<Snapshot>> done) override;
  void AttachVolume(const std::string& volume_id,
                    const std::string& instance_id, const std::string& device,
                    DoneStatus done) override;
  void DetachVolume(const std::string& volume_id, DoneStatus done) override;
  void MoveAddress(const std::string& address,
                   const std::string& to_instance_id, DoneStatus done) override;
  // SetStatusSink: forwarded untouched (ForwardingProvider).

 private:
  // What happens to one call, decided when it is made.
  struct Decision {
    Status error;  // not OK: fail without forwarding
    bool drop = false;
    Duration delay{0};
  };
  Decision Decide(ProviderOp op, const std::string& what);
  // Forwards (or fails) one call. R is the completion's argument type:
  // Status or Result<T>.
  template <typename R, typename Forward>
  void Run(ProviderOp op, const std::string& what, Forward forward,
           std::function<void(R)> done);
  void Deliver(Duration delay, std::function<void()> fn);

  EventLoop& loop_;
  Rng rng_;
  std::string name_;
  std::vector<FaultRule> rules_;
  struct Window {
    MonoTime from;
    MonoTime until;
  };
  std::optional<Window> outage_;
  std::array<FaultCounters, kProviderOpCount> counters_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lifeline
