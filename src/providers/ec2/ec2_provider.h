// Ec2Provider: the Provider interface over the AWS EC2 Query API.
//
//   ListZones        DescribeAvailabilityZones
//   Launch           RunInstances with ClientToken = idempotency token, tags
//                    lifeline:group / lifeline:token on the instance and its
//                    volumes; an existing live instance carrying the token
//                    is returned instead of launching (also covers tokens
//                    older than EC2's idempotency window, and emulators).
//                    LaunchSpec::image is an AMI id, or a launch template:
//                    "launch-template:<lt-id or name>[:<version>]", in
//                    which case the spec's other fields override the
//                    template's. `stopped` launches, then stops.
//   Terminate        TerminateInstances (already gone counts as done)
//   Reboot/Stop/Start RebootInstances / StopInstances / StartInstances
//   Recover          stop + start of an EBS-backed instance: same id,
//                    volumes and private addresses, a new host. Waits for
//                    "stopped" before starting; fails with
//                    kFailedPrecondition for instance-store roots.
//   DescribeStatus   DescribeInstanceStatus (IncludeAllInstances, 100 ids
//                    per call); ids EC2 does not know are kTerminated,
//                    except ids this provider launched within the eventual
//                    consistency window, which are kPending.
//   ListInstances    DescribeInstances filtered by tag, paged (adoption),
//                    then DescribeAddresses: InstanceInfo::addresses lists
//                    the elastic addresses an instance holds (auto-assigned
//                    public IPs cannot move, so they are not listed).
//   SnapshotVolumes  DescribeVolumes + CreateSnapshot + DescribeSnapshots
//                    until every snapshot is completed.
//   Attach/DetachVolume  AttachVolume / DetachVolume, then DescribeVolumes
//                    until attached / available.
//   MoveAddress      DescribeAddresses + AssociateAddress with
//                    AllowReassociation (an atomic move); an empty
//                    to_instance_id disassociates (DisassociateAddress).
//
// Thread-safety: as Provider: methods and callbacks on the loop thread;
// HTTP runs on the transport's worker threads. Destroying the provider
// drops callbacks that have not run yet.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "provider/provider.h"
#include "providers/ec2/client.h"
#include "providers/ec2/config.h"

namespace lifeline::ec2 {

class Ec2Provider final : public Provider {
 public:
  // Real HTTP: a CurlTransport with config.max_in_flight workers and the
  // credentials source the config names. loop must outlive the provider.
  Ec2Provider(EventLoop& loop, Ec2Config config);
  // Any transport (tests script responses through a fake).
  Ec2Provider(EventLoop& loop, Ec2Config config,
              std::unique_ptr<Ec2Transport> transport);
  ~Ec2Provider() override;

  // OK unless the config is invalid; then every call fails with it.
  const Status& init_status() const { return init_status_; }
  const Ec2Config& config() const { return config_; }
  Ec2Client& client() { return client_; }

  std::string_view name() const override { return "ec2"; }
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

  // Builds the RunInstances query for a request (exposed for tests).
  Result<Ec2Query> BuildRunInstances(const LaunchRequest& request) const;

 private:
  // The instance-state-name values of instances that still exist.
  static std::vector<std::string> LiveStates() {
    return {"pending", "running", "stopping", "stopped"};
  }
  // A probe reports whether the awaited state has been reached.
  using Probe = std::function<void(std::function<void(Result<bool>)>)>;
  // Runs probe now and then every poll_interval until it yields true (done
  // OK), an error, or wait_timeout passes (kDeadlineExceeded naming what).
  void WaitUntil(std::string what, Probe probe, DoneStatus done);
  // Options for a call about instance_id: *.NotFound is retried while the
  // instance is within the eventual consistency window of its launch.
  CallOptions ForInstance(const std::string& instance_id) const;
  bool RecentlyLaunched(const std::string& instance_id) const;
  void NoteLaunched(const std::string& instance_id);
  // One-instance actions (Reboot/Stop/Start/Terminate).
  void InstanceAction(const char* action, const std::string& instance_id,
                      bool not_found_is_success, DoneStatus done);
  // Fills each instance's elastic addresses (DescribeAddresses).
  void AddElasticAddresses(std::shared_ptr<std::vector<InstanceInfo>> instances,
                           Done<std::vector<InstanceInfo>> done);
  void DescribeInstance(const std::string& instance_id,
                        const std::string& label,
                        std::function<void(Result<Ec2Instance>)> done);
  void DescribeStatusBatch(std::vector<std::string> ids,
                           std::shared_ptr<std::vector<InstanceStatus>> out,
                           std::function<void(Status)> done);
  void RunInstances(const LaunchRequest& request, Done<InstanceInfo> done);
  void StopAfterLaunch(InstanceInfo info, Done<InstanceInfo> done);
  void CreateSnapshots(std::string instance_id, std::vector<Ec2Volume> volumes,
                       size_t next, std::shared_ptr<std::vector<Snapshot>> out,
                       Done<std::vector<Snapshot>> done);
  // Posts done(status) so it never runs inside the caller's call.
  void PostStatus(DoneStatus done, Status status);
  template <typename T>
  void PostResult(Done<T> done, Result<T> result) {
    loop_.Post([done = std::move(done), r = std::move(result)]() mutable {
      done(std::move(r));
    });
  }

  EventLoop& loop_;
  const Ec2Config config_;
  const Status init_status_;
  Ec2Client client_;
  // Instances this provider launched and when (eventual consistency).
  std::unordered_map<std::string, MonoTime> launched_at_;
  std::shared_ptr<Ec2Provider*> self_;  // weak_ptrs guard timers
};

}  // namespace lifeline::ec2
