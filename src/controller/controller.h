// Controller: the deterministic core. One thread (its EventLoop's) owns all
// fleet state: groups, the instances in them, their health, and the
// workflows repairing them. It consumes timestamped inputs — provider
// status, application-health transitions, operator commands — and issues
// provider calls through a bounded OpQueue; every destructive call passes
// the SafetyGovernor first. It reads time only from the loop's Clock and
// does no I/O itself, so the same core runs under the daemon's RealLoop and
// under a SimLoop in tests and the simulator.
//
// Every observation, decision (with rule and evidence) and action (with its
// result) is appended to the History.
//
// Thread-safety: none. Call everything on the loop thread; other threads
// post to the loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/group_spec.h"
#include "controller/health.h"
#include "controller/memory_journal.h"
#include "controller/op_queue.h"
#include "controller/workflow.h"
#include "core/event_loop.h"
#include "core/rng.h"
#include "history/history.h"
#include "provider/provider.h"
#include "safety/governor.h"

namespace lifeline {

struct ControllerConfig {
  // Batched DescribeStatus of every instance; zero turns polling off (for
  // providers that push every change, and for the largest simulations).
  Duration status_poll_interval = std::chrono::seconds(10);
  // Safety-net reconciliation of every group, besides the event-driven one.
  Duration reconcile_interval = std::chrono::seconds(30);
  // Listing every group's instances, to learn the elastic addresses they
  // hold now (status polls carry none); zero turns it off (the largest
  // simulations).
  Duration inventory_interval = std::chrono::minutes(5);
  // An instance whose heartbeats turn suspect (or fail from silence) gets an
  // out-of-cycle provider status check at once — an active check by an
  // independent observer: a stopped or impaired instance is then repaired on
  // its instance/system check without waiting for the next poll, and silence
  // the provider cannot explain stays a suspicion. At most once per
  // instance per this interval; zero turns it off.
  Duration suspect_check_interval = std::chrono::seconds(1);
  // A failure that rests on application-level signals (heartbeats, agents,
  // probes) waits this long before the first decision, so that correlated
  // failures (a partition, a bad health-check deploy) are seen as such.
  Duration heartbeat_settle = std::chrono::seconds(1);
  // After a reboot or recover, the instance must stay healthy this long
  // before the rung counts as a success (flap damping).
  Duration recovery_stable = std::chrono::seconds(10);
  // While a zone alone is in panic, its unhealthy instances are held from
  // repair; the group surges that much capacity into its other zones
  // (launches only, nothing is destroyed). Once the panic is over, the
  // surplus stays this long before the group scales back to desired. The
  // zone must have been alone in panic for surge_after first (a partition
  // healing zone by zone passes through such moments).
  Duration surge_after = std::chrono::minutes(1);
  Duration surge_hold = std::chrono::minutes(5);
  // A fresh journal numbers its workflows from here. Launch tokens derive
  // from workflow ids, and a provider's idempotency tokens (EC2's
  // ClientToken) outlive a lost state directory or a second Lifeline, so
  // lifelined draws this at random; simulations keep 1 for determinism.
  uint64_t first_workflow_id = 1;
  // A provider call waits until its step is journaled; while the journal
  // refuses writes, the write is retried this often.
  Duration journal_retry = std::chrono::seconds(1);
  int max_in_flight_operations = 256;
  size_t status_batch = 1000;
  SafetyConfig safety;
  uint64_t seed = 1;
};

// Where an instance stands in its group.
enum class InstanceRole {
  kActive,       // counts towards capacity
  kReplacement,  // launched by a recovery; not yet promoted
  kRetiring,     // replaced or scaled in; being terminated
  kStandby,      // warm-pool standby
};
std::string_view ToString(InstanceRole r);

struct InstanceRecord {
  InstanceInfo info;
  InstanceRole role = InstanceRole::kActive;
  MonoTime launched_at{};
  MonoTime restarted_at{};  // last reboot/recover/start by Lifeline
  AppHealth app = AppHealth::kUnknown;
  std::string app_source;
  std::string app_reason;
  MonoTime app_since{};
  MonoTime status_checked_at{};  // last out-of-cycle status check (suspect)
  MonoTime status_seen_at{};     // last provider status taken in
  MonoTime adopted_at{};  // found running by a (re)started Lifeline
  bool status_check_deferred = false;  // one is due when the interval ends
  double error_ratio = 0;
  double latency_ms = 0;
  std::optional<bool> operator_healthy;
  std::string operator_reason;
  bool terminated_by_us = false;
  bool stopped_by_us = false;
  HealthVerdict verdict;
  MonoTime unhealthy_since{};
  std::string workflow;  // id of the workflow acting on it, if any
  // Deliberately left alone (dry-run decided, ladder exhausted, ignored in
  // a shifted zone) until this time or until it is healthy again.
  MonoTime parked_until{};
  std::string parked_reason;
  // Recovery attempts: (failure kind, rung, when), for per-window limits.
  struct Attempt {
    FailureKind kind;
    int rung;
    MonoTime at;
  };
  std::vector<Attempt> attempts;
  // What this record currently adds to the group/zone counters.
  struct Counted {
    bool in = false;
    bool active = false;
    bool unhealthy = false;
    bool silent = false;  // unhealthy or suspect
    bool app_ok = false;
    bool standby = false;
  } counted;
};

struct ZoneCounts {
  int active = 0;
  int unhealthy = 0;
  int silent = 0;
  int app_ok = 0;
  int standby = 0;
  int launching = 0;  // capacity launches in flight
};

// Told when instances join or leave Lifeline's view (the heartbeat
// detector tracks them).
class InstanceObserver {
 public:
  virtual ~InstanceObserver() = default;
  virtual void OnInstanceAdded(const InstanceRecord& rec,
                               const GroupSpec& spec) = 0;
  virtual void OnInstanceRemoved(const std::string& instance_id) = 0;
  // The instance was restarted in place (reboot, recover): its application
  // health is unknown again until it is heard from within the group's grace
  // period. A detector that reports only changes must start its record over,
  // or a restart too quick for it to notice leaves the health unknown.
  virtual void OnInstanceRestarted(const InstanceRecord& rec,
                                   const GroupSpec& spec) {
    (void)rec;
    (void)spec;
  }
};

// One line of the dry-run preview: what the controller would do now, why,
// and what the governor would say.
struct PlannedAction {
  std::string group, zone, instance;
  std::string action;  // "reboot", "replace", "launch", "terminate", ...
  std::string reason;
  std::string verdict;  // "allow", "defer", "dry_run", "in_progress"
  std::string rule;
  std::string detail;
};

struct ControllerStats {
  uint64_t decisions = 0;     // recovery decisions taken (approved+deferred)
  uint64_t approvals = 0;
  uint64_t deferrals = 0;
  uint64_t launches = 0;
  uint64_t terminates = 0;
  uint64_t reboots = 0;
  uint64_t recovers = 0;
  uint64_t recoveries_succeeded = 0;
  uint64_t recoveries_failed = 0;
  uint64_t recoveries_self_healed = 0;  // healthy again before any action
  uint64_t status_checks = 0;  // out-of-cycle status checks of suspects
};

class Controller {
 public:
  Controller(EventLoop& loop, Provider& provider, History& history,
             ControllerConfig config, Journal* journal = nullptr);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Loads the journal, adopts the groups' existing instances, resumes
  // in-flight workflows and starts polling. Groups applied before Start()
  // are adopted; groups applied later are adopted when applied.
  void Start();
  bool started() const { return started_; }
  // Set when adoption and the first status view are complete.
  bool ready() const { return ready_; }

  // ---- commands -----------------------------------------------------------
  Status ApplyGroup(const GroupSpec& spec, const std::string& actor = "config");
  Status DeleteGroup(const std::string& name, const std::string& actor);
  Status SetDesiredCapacity(const std::string& group, int desired,
                            const std::string& actor);
  // healthy = nullopt clears the operator's opinion.
  Status SetInstanceHealth(const std::string& instance_id,
                           std::optional<bool> healthy,
                           const std::string& reason, const std::string& actor);
  Status SetFleetFrozen(bool frozen, const std::string& reason,
                        const std::string& actor);
  Status SetGroupFrozen(const std::string& group, bool frozen,
                        const std::string& reason, const std::string& actor);
  // Zones the group must not launch into (zonal shift); see src/zones.
  void SetShiftedZones(const std::string& group, std::set<std::string> zones);

  // ---- signals --------------------------------------------------------------
  void OnAppHealth(const AppHealthTransition& t);
  void OnLoadReport(const LoadReport& r);
  void OnProviderStatus(const InstanceStatus& s);
  // A status answered for a request made at `asked`: dropped for an
  // instance whose status has been taken in since (a push, a poll), as the
  // answer may be older than what is known.
  void OnProviderStatusAsked(const InstanceStatus& s, MonoTime asked);
  // The loop (or the whole process) did not run for `gap`.
  void OnLoopStall(Duration gap);

  void SetInstanceObserver(InstanceObserver* o) { observer_ = o; }
  // Called (on the loop) after every history append of an alert; lets the
  // zone-impairment detector and webhooks react without polling.
  void SetAlertHook(std::function<void(const HistoryEvent&)> hook) {
    alert_hook_ = std::move(hook);
  }

  // ---- queries --------------------------------------------------------------
  std::vector<std::string> GroupNames() const;
  const GroupSpec* group(const std::string& name) const;
  const InstanceRecord* instance(const std::string& id) const;
  std::vector<const InstanceRecord*> GroupInstances(const std::string& g) const;
  const std::unordered_map<std::string, InstanceRecord>& instances() const {
    return instances_;
  }
  const std::map<std::string, Workflow>& workflows() const {
    return workflows_;
  }
  // Per-zone counters of a group (active, unhealthy, ...).
  std::map<std::string, ZoneCounts> ZoneCountsOf(const std::string& g) const;
  const std::set<std::string>& ShiftedZones(const std::string& g) const;
  int InRecovery(const std::string& group) const;
  std::vector<PlannedAction> Preview();
  const ControllerStats& stats() const { return stats_; }
  SafetyGovernor& governor() { return governor_; }
  const OpQueue& ops() const { return ops_; }
  EventLoop& loop() { return loop_; }
  History& history() { return history_; }

  // Recomputes every counter from scratch and compares (tests).
  Status CheckAccounting() const;

 private:
  struct GroupRuntime {
    GroupSpec spec;
    std::unordered_set<std::string> members;
    std::map<std::string, ZoneCounts> zones;
    std::set<std::string> shifted;
    // Warm pool (capacity.cc): standby launches in flight (workflow id ->
    // zone), scale-in workflows dropping a broken standby, and when a
    // failed refill may be tried again.
    std::map<std::string, std::string> standby_launches;
    std::set<std::string> standby_retiring;
    MonoTime warm_pool_after{};
    // Rebalancing (capacity.cc): launch workflows of the current step, the
    // instances they launched that no termination has matched yet, and when
    // a blocked step may be tried again.
    std::set<std::string> rebalance_launches;
    std::set<std::string> rebalance_new;
    MonoTime rebalance_after{};
    // Zone-panic surge (capacity.cc): no scale-in of surplus before this.
    MonoTime surge_hold_until{};
    // Elastic addresses (addresses.cc): left behind by lost instances, to
    // be attached again; one move at a time; a failed move waits.
    std::set<std::string> left_addresses;
    bool address_move_in_flight = false;
    MonoTime address_after{};
    int in_recovery = 0;
    bool reconcile_posted = false;
    bool adopted = false;
  };

  // controller.cc: bookkeeping, signals, commands.
  InstanceRecord& AddInstance(const InstanceInfo& info, InstanceRole role,
                              MonoTime launched_at,
                              const std::string& workflow = "");
  void RemoveInstance(const std::string& id);
  void Account(InstanceRecord& rec);
  void Reevaluate(InstanceRecord& rec);
  HealthInputs InputsFor(const InstanceRecord& rec) const;
  void Record(EventKind kind, std::string type, const std::string& group,
              const std::string& zone, const std::string& instance,
              std::string message, std::string rule = "",
              std::vector<std::pair<std::string, std::string>> evidence = {});
  void Adopt(const std::string& group);
  void ReconcileTick();
  void PollStatus();
  // Out-of-cycle status checks of suspect instances (suspect_check_interval),
  // batched, one batch in flight at a time.
  void RequestStatusCheck(InstanceRecord& rec);
  void FlushStatusChecks();
  // inventory.cc: addresses learned after launch.
  void InventoryTick();
  void RefreshInventory(const std::string& group);
  void ScheduleEvaluation();
  void EvaluateSafety();
  GroupRuntime* Runtime(const std::string& group);

  // recovery.cc: the recovery state machine.
  void StartRecovery(InstanceRecord& rec);
  void ScheduleDecisions();
  void RunDecisions();
  void Decide(Workflow& wf);
  void Enter(Workflow& wf, WorkflowState next);
  void Step(Workflow& wf);
  void RunAction(Workflow& wf);
  void StartReplace(Workflow& wf);
  void LaunchReplacement(Workflow& wf);
  void CheckReplacementReady(Workflow& wf);
  void MoveResources(Workflow& wf);
  void TerminateOld(Workflow& wf);
  void CleanUpReplacement(Workflow& wf);
  void RungFailed(Workflow& wf, const std::string& why);
  void Finish(Workflow& wf, bool success, const std::string& message);
  void OnHealthChangedDuringWorkflow(InstanceRecord& rec);
  int ChooseRung(const InstanceRecord& rec, FailureKind kind,
                 const GroupSpec& spec, MonoTime now) const;
  std::vector<std::string> Corroborate(const InstanceRecord& rec,
                                       std::vector<std::string> signals) const;
  void Call(Workflow& wf, const std::string& what,
            std::function<void(Provider::DoneStatus)> start,
            std::function<void(Workflow&, Status)> on_done);
  void RetryLater(Workflow& wf, const Status& why);
  // A freeze stops in-flight workflows before their next destructive call.
  bool HoldIfFrozen(Workflow& wf);
  void ArmTimer(Workflow& wf, Duration delay, std::function<void(Workflow&)> fn);
  // Journals `wf`; on failure marks it journal_behind and raises an alert
  // (once per failing stretch). Returns whether the write succeeded.
  bool Persist(Workflow& wf);
  // Whether a provider call of `wf` may be issued: its journal record and
  // the reservation of its id (launch tokens derive from it) are durable.
  // Retries a failed write first.
  bool JournalCaughtUp(Workflow& wf);
  bool ReserveWorkflowIds(const std::string& group);
  Workflow& NewWorkflow(WorkflowKind kind, const std::string& group);
  Duration Backoff(const GroupSpec& spec, int attempt);

  // capacity.cc: keeping groups at desired capacity, balanced.
  void ScheduleReconcile(const std::string& group);
  void Reconcile(const std::string& group);
  std::string PickLaunchZone(const GroupRuntime& g,
                             const std::vector<std::string>& exclude) const;
  void StartLaunch(GroupRuntime& g, const std::string& zone,
                   bool rebalance = false);
  void RunLaunch(Workflow& wf);
  void OnLaunched(Workflow& wf, const InstanceInfo& info);
  // rebalance: victims spare the step's new instances and never take a
  // zone below spec.min_healthy_per_zone healthy instances.
  // Returns how many scale-ins it started.
  int StartScaleIn(GroupRuntime& g, int count, bool rebalance = false);
  void RunScaleIn(Workflow& wf);
  std::vector<std::string> LaunchableZones(const GroupRuntime& g) const;
  // Surplus above desired; rebalance launches not yet ready hold it back.
  void ScaleInSurplus(GroupRuntime& g, int surplus);
  void MaybeRebalance(GroupRuntime& g);
  // Warm pools: keep spec.warm_pool.min_size standbys per launchable zone
  // (at most max_prepared in all), drop broken ones.
  void ReconcileWarmPool(GroupRuntime& g);
  // addresses.cc: group-owned and left-behind elastic addresses.
  void ReconcileAddresses(GroupRuntime& g);
  void LeaveAddresses(GroupRuntime& g, const InstanceRecord& rec);
  void PersistLeftAddresses(const GroupRuntime& g);
  void LoadLeftAddresses(GroupRuntime& g);
  void StartStandbyLaunch(GroupRuntime& g, const std::string& zone);
  void PersistStandbys(const GroupRuntime& g);
  // recovery.cc: a replacement takes a ready standby of `zone` if there is
  // one (starting it when stopped). False: launch one cold.
  bool TakeStandby(Workflow& wf, GroupRuntime& g, const std::string& zone);
  void StartTakenStandby(Workflow& wf);

  EventLoop& loop_;
  Provider& provider_;
  History& history_;
  ControllerConfig config_;
  MemoryJournal own_journal_;
  Journal* journal_;
  Rng rng_;
  SafetyGovernor governor_;
  OpQueue ops_;
  InstanceObserver* observer_ = nullptr;
  std::function<void(const HistoryEvent&)> alert_hook_;

  std::map<std::string, GroupRuntime> groups_;
  std::unordered_map<std::string, InstanceRecord> instances_;
  std::map<std::string, ZoneCounts> fleet_zones_;
  std::map<std::string, Workflow> workflows_;
  uint64_t next_workflow_ = 1;
  uint64_t reserved_workflows_ = 0;  // ids below this are reserved
  bool reservation_behind_ = false;  // the last reservation write failed

  bool started_ = false;
  bool ready_ = false;
  bool evaluation_posted_ = false;
  std::vector<std::string> status_checks_;  // waiting for FlushStatusChecks
  bool status_check_busy_ = false;          // posted or in flight
  bool decisions_posted_ = false;
  EventLoop::TimerId decisions_timer_ = EventLoop::kNoTimer;
  MonoTime decisions_at_{};
  int pending_adoptions_ = 0;
  ControllerStats stats_;
  std::shared_ptr<bool> alive_;  // guards callbacks after destruction
};

}  // namespace lifeline
