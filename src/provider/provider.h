// Provider: the one interface through which Lifeline touches
// infrastructure. Implementations live in src/providers/<name>/.
//
// Contract:
//   - Every call is asynchronous. Its completion callback is posted to the
//     EventLoop the provider was constructed with and is never invoked
//     synchronously inside the call, so callers may hold no locks and need
//     not guard against re-entrancy.
//   - Errors are Status values; retryable() tells the caller whether the
//     same request may be repeated (throttling, outages, timeouts).
//   - Launch is idempotent by LaunchRequest::idempotency_token: repeating a
//     launch with the same token returns the instance already launched
//     (EC2's ClientToken semantics) and never creates a second one.
//   - Terminate of an instance that is already gone succeeds.
//   - Methods are called from the loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace lifeline {

struct LaunchRequest {
  std::string group;
  std::string zone;
  LaunchSpec spec;
  std::string idempotency_token;
  // device -> snapshot id: volumes to create from snapshots of the
  // instance being replaced.
  std::map<std::string, std::string> volume_snapshots;
  // Launch stopped (a warm-pool standby), to be started later.
  bool stopped = false;
};

class Provider {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  using DoneStatus = std::function<void(Status)>;
  // Status changes pushed by providers that can observe them directly
  // (process exit, simulated faults). Polling DescribeStatus remains the
  // reconciliation path for every provider.
  using StatusSink = std::function<void(const InstanceStatus&)>;

  virtual ~Provider() = default;

  virtual std::string_view name() const = 0;

  virtual void ListZones(Done<std::vector<ZoneInfo>> done) = 0;
  virtual void Launch(const LaunchRequest& request, Done<InstanceInfo> done) = 0;
  virtual void Terminate(const std::string& instance_id, DoneStatus done) = 0;
  virtual void Reboot(const std::string& instance_id, DoneStatus done) = 0;
  virtual void Stop(const std::string& instance_id, DoneStatus done) = 0;
  virtual void Start(const std::string& instance_id, DoneStatus done) = 0;
  // Same identity, new host (EC2 auto-recovery; stop+start of EBS-backed).
  virtual void Recover(const std::string& instance_id, DoneStatus done) = 0;

  // Batched status of the given instances; unknown ids are reported as
  // kTerminated. An empty list asks for every instance Lifeline launched.
  virtual void DescribeStatus(const std::vector<std::string>& instance_ids,
                              Done<std::vector<InstanceStatus>> done) = 0;
  // Every live instance tagged with the group (adoption). Empty group: all
  // instances carrying a lifeline:group tag.
  virtual void ListInstances(const std::string& group,
                             Done<std::vector<InstanceInfo>> done) = 0;

  // Snapshots every volume of the instance; completes when all are done.
  virtual void SnapshotVolumes(const std::string& instance_id,
                               Done<std::vector<Snapshot>> done) = 0;
  virtual void AttachVolume(const std::string& volume_id,
                            const std::string& instance_id,
                            const std::string& device, DoneStatus done) = 0;
  virtual void DetachVolume(const std::string& volume_id, DoneStatus done) = 0;
  // Moves an address (elastic IP) to another instance, taking it from
  // whoever holds it.
  virtual void MoveAddress(const std::string& address,
                           const std::string& to_instance_id,
                           DoneStatus done) = 0;

  // Optional push channel; the sink is called on the loop thread.
  virtual void SetStatusSink(StatusSink sink) { (void)sink; }
};

}  // namespace lifeline
