// SimProvider: a simulated cloud behind the Provider interface, with fault
// injection and ground truth, for deterministic tests and benchmarks at
// million-instance scale.
//
// Timing. Every call samples its latency from SimConfig (base + uniform
// jitter); its completion waits in the provider's own queue, which keeps a
// single EventLoop timer armed for the earliest entry, and never runs inside
// the call. An operation takes effect at the moment its
// completion runs (the cloud answers once the work is done), except Launch:
// the instance exists, pending, from the call on, so a repeated token finds
// it; it turns running kBoot latency after its launch response (stopped
// instead, for a warm-pool launch). Start likewise answers pending and boots.
//
// Semantics (EC2-like):
//   - Launch is idempotent by token; reusing a token with other parameters
//     is kInvalidArgument. Ids are "sim-000001", "sim-000002", ... in order.
//   - Terminate of an unknown or terminated instance succeeds. Terminating
//     deletes non-detachable volumes, detaches the others, and releases
//     addresses.
//   - Reboot clears a crash and an application hang; it does not fix a
//     failed host. Recover moves the instance to another healthy host of its
//     zone (same id) and clears every instance fault; kResourceExhausted when
//     there is none (on a healthy host with no other to go to it restarts in
//     place). Stop/Start stop and boot it again (Start moves it off a
//     failed host).
//   - Status checks: pending -> both kInitializing; running -> system
//     kImpaired on a failed host, instance kImpaired on a failed host or when
//     crashed, kOk otherwise; stopped/terminated -> kUnknown.
//   - DescribeStatus({}) lists every instance, including those terminated
//     within SimConfig::terminated_visibility, in index order.
//
// Faults. Public methods change the simulated world at once (the caller is
// on the loop thread). Every change of an instance's reported status, from a
// fault or an operation (boot, stop, termination), reaches the status sink
// through one posted task per batch; the truth listener is called
// synchronously for every instance whose application-level truth (alive,
// lifecycle, error ratio, latency) changed, and may read ground truth.
// Random faults (API error rates, gray-zone launch failures) and latencies
// draw from one Rng seeded at construction: the same seed and the same call
// sequence give the same outcome, byte for byte.
//
// Memory: about 40 bytes per instance plus its token, volumes and addresses
// when it has any; no timers for idle instances.
//
// Thread-safety: none; every method runs on the loop thread. The provider
// must outlive the loop's run, or its pending completions are dropped when it
// is destroyed (they check a liveness token).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/rng.h"
#include "provider/provider.h"
#include "providers/sim/sim_config.h"
#include "providers/sim/sim_truth.h"

namespace lifeline {

class SimProvider final : public Provider {
 public:
  using TruthListener = std::function<void(const std::string& id)>;

  // `loop` is normally a SimLoop and must outlive the provider. An invalid
  // config (see ValidateSimConfig) is repaired: zones without hosts get one.
  SimProvider(EventLoop& loop, uint64_t seed,
              SimConfig config = DefaultSimConfig());
  ~SimProvider() override;
  SimProvider(const SimProvider&) = delete;
  SimProvider& operator=(const SimProvider&) = delete;

  // ---- Provider ------------------------------------------------------------
  std::string_view name() const override { return "sim"; }
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
  void SetStatusSink(StatusSink sink) override { sink_ = std::move(sink); }

  // ---- faults: infrastructure ----------------------------------------------
  // Host names are "<zone>-h<NNN>", e.g. "sim-1a-h003". kNotFound for an
  // unknown host, zone or instance in everything below.
  std::vector<std::string> HostNames(std::string_view zone) const;
  Status FailHost(std::string_view host);
  Status RepairHost(std::string_view host);
  // Fails the host the instance runs on (and so every instance there).
  Status FailHostOf(std::string_view instance_id);
  // Every host of the zone fails and the zone is reported unavailable;
  // launches there fail kUnavailable. RecoverZone repairs all of it.
  Status FailZone(std::string_view zone);
  Status RecoverZone(std::string_view zone);
  // Launches (and starts, recoveries) into the zone fail kResourceExhausted
  // "insufficient capacity" while set.
  Status SetCapacityShortage(std::string_view zone, bool shortage);
  // Gray failure: instances in the zone report the error ratio and latency,
  // launches there fail kUnavailable at the given rate. HealZone undoes it.
  Status DegradeZone(std::string_view zone, const SimDegradation& d);
  Status HealZone(std::string_view zone);

  // ---- faults: instances ---------------------------------------------------
  // kFailedPrecondition unless the instance is running (hang: and not
  // already hung).
  Status CrashInstance(std::string_view id,
                       CrashKind kind = CrashKind::kUnresponsive);
  Status HangApplication(std::string_view id);
  // Undoes a crash (unresponsive kind) and a hang without an API call, as if
  // the instance came back on its own.
  Status HealInstance(std::string_view id);
  // This one instance reports the error ratio / latency (gray failure of one
  // instance); error_ratio 0 and latency 0 undo it.
  Status DegradeInstance(std::string_view id, double error_ratio,
                         double latency_ms);
  // Someone else terminated it (console, spot reclaim). Not counted as an
  // API terminate; logged with by_api = false.
  Status TerminateBehindBack(std::string_view id);

  // ---- faults: control plane -----------------------------------------------
  void SetApiFaults(const SimApiFaults& faults);  // every operation
  void SetApiFaults(SimOp op, const SimApiFaults& faults);
  void ClearApiFaults() { SetApiFaults(SimApiFaults{}); }
  // Every call made before `until` fails kUnavailable.
  void StartApiOutage(MonoTime until) { outage_until_ = until; }
  void EndApiOutage() { outage_until_ = MonoTime{}; }

  // ---- addresses -----------------------------------------------------------
  // Allocates an elastic address, optionally held by an instance.
  // kAlreadyExists if allocated; kNotFound for an unknown instance.
  Status CreateAddress(const std::string& address,
                       std::string_view owner_id = {});

  // ---- ground truth --------------------------------------------------------
  std::optional<SimTruth> GroundTruth(std::string_view id) const;
  // Instances ever created (indexes 0..n-1, terminated ones included).
  size_t instance_count() const { return instances_.size(); }
  std::string IdOf(SimIndex index) const;
  std::optional<SimIndex> IndexOf(std::string_view id) const;
  SimTruth TruthAt(SimIndex index) const;
  // SimTruth::app_alive() without building a SimTruth, for simulators that
  // walk a million instances.
  bool AppAliveAt(SimIndex index) const;
  // Instances in a zone ("" = all zones) with the given lifecycle.
  size_t Count(std::string_view zone, Lifecycle lifecycle) const;
  std::vector<std::string> InstanceIds(bool include_terminated) const;
  const SimOpCounters& counters(SimOp op) const {
    return counters_[static_cast<size_t>(op)];
  }
  // Instances actually created (idempotent replays and failures excluded).
  uint64_t instances_created() const { return instances_created_; }
  const std::vector<SimTerminateRecord>& terminate_log() const {
    return terminate_log_;
  }
  std::optional<SimVolumeTruth> VolumeTruth(std::string_view volume_id) const;
  std::vector<std::string> VolumeIdsOf(std::string_view instance_id) const;
  std::vector<std::string> AddressesOf(std::string_view instance_id) const;
  // Holder of an address: nullopt if not allocated, "" if unattached.
  std::optional<std::string> AddressOwner(std::string_view address) const;
  void SetTruthListener(TruthListener listener) {
    truth_listener_ = std::move(listener);
  }

  // ---- benchmarks ----------------------------------------------------------
  // Creates running instances directly: no latency, no API counters, no
  // status pushes or truth notifications, API faults and capacity shortages
  // ignored (failed hosts and capacity limits are not). kInvalidArgument for
  // an unknown zone, kResourceExhausted when capacity runs out (instances
  // created so far stay).
  Result<std::vector<InstanceInfo>> PopulateFleet(const SimPopulateRequest& r);
  // Same, returning only the index range [first, first + count).
  Result<SimIndex> PopulateFleetIndexes(const SimPopulateRequest& r);

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Instance {
    int64_t launched_ns = 0;
    int64_t since_ns = 0;
    uint32_t group = 0;
    uint32_t spec = 0;
    uint32_t host = 0;
    uint16_t zone = 0;
    uint16_t epoch = 0;  // bumped on lifecycle change; stale boots see it
    Lifecycle lifecycle = Lifecycle::kPending;
    bool crashed = false;
    bool app_hung = false;
    bool boot_to_stopped = false;
    bool degraded = false;  // has an entry in degraded_
  };
  struct Host {
    uint16_t zone = 0;
    bool failed = false;
    uint32_t count = 0;  // non-terminated instances placed here
  };
  struct Zone {
    SimZoneConfig config;
    uint32_t first_host = 0;
    uint32_t cursor = 0;  // round-robin placement position
    int64_t live = 0;     // non-terminated instances
    bool shortage = false;
    bool failed = false;
    std::optional<SimDegradation> degradation;
  };
  struct VolumeRec {
    std::string device;
    std::string from_snapshot;
    uint32_t owner = kNone;
    uint16_t zone = 0;
    int size_gib = 0;
    bool detachable = false;
    bool deleted = false;
  };
  struct SnapshotRec {
    uint32_t volume = 0;
    std::string device;
  };
  // Scheduled work: a boot (index = instance) or a task (index = slot in
  // tasks_).
  static constexpr uint8_t kBootWork = 0;
  static constexpr uint8_t kTaskWork = 1;
  struct Work {
    int64_t due_ns = 0;
    uint64_t seq = 0;  // scheduling order among equal due times
    uint32_t index = 0;
    uint16_t epoch = 0;
    uint8_t kind = kTaskWork;
    bool operator>(const Work& o) const {
      return due_ns != o.due_ns ? due_ns > o.due_ns : seq > o.seq;
    }
  };
  struct Degradation {
    double error_ratio = 0;
    double latency_ms = 0;
  };
  // What the sink and the listener compare across a mutation.
  struct Observed {
    InstanceStatus status;
    bool alive = false;
    double error_ratio = 0;
    double latency_ms = 0;
  };

  // Call plumbing (sim_provider.cc).
  Status Gate(SimOp op, const std::string& what);
  Duration SampleLatency(SimOp op);
  void Schedule(SimOp op, std::function<void()> fn);
  void ScheduleAfter(Duration d, std::function<void()> fn);
  void Enqueue(Duration d, Work w);
  void ArmWorkTimer();
  void RunDueWork();
  void Finish(SimOp op, const Status& st);
  using InstanceOpFn = Status (SimProvider::*)(const std::string& id,
                                               const std::string& what);
  void RunInstanceOp(SimOp op, const std::string& instance_id, DoneStatus done,
                     InstanceOpFn fn);

  // Operations as they take effect (sim_provider_ops.cc).
  // Creates the instance (or finds it by token) and arms its boot to follow
  // the launch response, due after `response`.
  Result<SimIndex> DoLaunch(const LaunchRequest& r, const std::string& what,
                            Duration response);
  Status DoTerminate(const std::string& id, const std::string& what);
  Status DoReboot(const std::string& id, const std::string& what);
  Status DoStop(const std::string& id, const std::string& what);
  Status DoStart(const std::string& id, const std::string& what);
  Status DoRecover(const std::string& id, const std::string& what);
  Result<std::vector<Snapshot>> DoSnapshot(const std::string& id,
                                           const std::string& what);
  Status DoAttach(const std::string& volume_id, const std::string& id,
                  const std::string& device, const std::string& what);
  Status DoDetach(const std::string& volume_id, const std::string& what);
  Status DoMoveAddress(const std::string& address, const std::string& id,
                       const std::string& what);
  std::vector<InstanceStatus> DoDescribe(const std::vector<std::string>& ids);
  void ArmBoot(SimIndex i, Duration delay);
  void Boot(SimIndex i, uint16_t epoch);

  // State helpers (sim_provider_state.cc).
  std::optional<uint16_t> ZoneIndex(std::string_view zone) const;
  std::optional<uint32_t> HostIndex(std::string_view host) const;
  std::string HostName(uint32_t host) const;
  // A healthy host of the zone with room, other than `avoid`; kNone if none.
  uint32_t PickHost(uint16_t zone, uint32_t avoid);
  Status CheckCapacity(uint16_t zone, const std::string& what) const;
  SimIndex CreateInstance(uint32_t group, uint32_t spec, uint16_t zone,
                          uint32_t host, Lifecycle lifecycle);
  uint32_t InternGroup(const std::string& group);
  uint32_t InternSpec(uint32_t group, const LaunchSpec& spec);
  void SetLifecycle(SimIndex i, Lifecycle lc);
  void MoveToHost(SimIndex i, uint32_t host);
  Observed Observe(SimIndex i) const;
  InstanceStatus StatusAt(SimIndex i) const;
  InstanceInfo InfoAt(SimIndex i) const;
  bool Visible(SimIndex i) const;
  // Runs f (which mutates instance i) and reports what changed.
  template <typename F>
  void Mutate(SimIndex i, F&& f) {
    Observed before = Observe(i);
    f(instances_[i]);
    Notify(i, before);
  }
  void Notify(SimIndex i, const Observed& before);
  void Push(InstanceStatus status);
  void TerminateNow(SimIndex i, bool by_api);
  Status FailHostIndex(uint32_t host);
  void SetHostFailed(uint32_t host, bool failed);
  // Applies a change of the world (a host, a zone) and reports what changed
  // for every live instance `affected` selects.
  void MutateWhere(const std::function<bool(const Instance&)>& affected,
                   const std::function<void()>& change);
  Result<SimIndex> Resolve(std::string_view id, std::string_view what) const;
  double ErrorRatioAt(SimIndex i) const;
  double LatencyAt(SimIndex i) const;
  void FlushPushes();

  EventLoop& loop_;
  Rng rng_;
  SimConfig config_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::vector<Instance> instances_;
  std::vector<Host> hosts_;
  std::vector<Zone> zones_;
  std::vector<std::string> groups_;
  std::unordered_map<std::string, uint32_t> group_index_;
  std::vector<LaunchSpec> specs_;
  std::unordered_map<uint32_t, uint32_t> last_spec_of_group_;
  std::unordered_map<std::string, SimIndex> by_token_;
  std::unordered_map<SimIndex, std::string> token_of_;
  std::unordered_map<SimIndex, Degradation> degraded_;
  std::vector<VolumeRec> volumes_;
  std::vector<SnapshotRec> snapshots_;
  std::unordered_map<SimIndex, std::vector<uint32_t>> volumes_of_;
  std::map<std::string, uint32_t, std::less<>> address_owner_;
  std::unordered_map<SimIndex, std::vector<std::string>> addresses_of_;
  // counts_[zone * 5 + lifecycle]
  std::vector<size_t> counts_;

  std::array<SimApiFaults, kSimOpCount> api_faults_{};
  MonoTime outage_until_{};

  std::array<SimOpCounters, kSimOpCount> counters_{};
  uint64_t instances_created_ = 0;
  std::vector<SimTerminateRecord> terminate_log_;

  std::priority_queue<Work, std::vector<Work>, std::greater<>> work_;
  std::vector<std::function<void()>> tasks_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_work_seq_ = 0;
  EventLoop::TimerId work_timer_ = EventLoop::kNoTimer;
  int64_t work_timer_due_ = 0;

  StatusSink sink_;
  TruthListener truth_listener_;
  std::vector<InstanceStatus> pending_pushes_;
};

}  // namespace lifeline
