#include "sim/runner.h"

#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "controller/controller.h"
#include "controller/memory_journal.h"
#include "core/sim_loop.h"
#include "sim/recording_provider.h"
#include "testing/sim_heartbeats.h"

namespace lifeline {

namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// One simulation: the world, Lifeline, and the invariant checks.
class Run {
 public:
  Run(const Scenario& sc, uint64_t seed, const RunOptions& opt)
      : sc_(sc),
        seed_(seed),
        opt_(opt),
        loop_(clock_),
        rng_(seed ^ 0x5eed),
        provider_(loop_, seed, MakeSimConfig(sc)),
        recording_(provider_,
                   [this](const DestructiveCall& c) { OnDestructive(c); }) {
    report_.scenario = sc.name;
    report_.seed = seed;
    history_.AddListener([this](const HistoryEvent& e) {
      ++report_.history_events;
      if (opt_.trace) {
        *opt_.trace << FormatDuration(loop_.Now() - start_) << "  " << e.type
                    << "  " << e.instance << "  " << e.message
                    << (e.rule.empty() ? "" : "  [" + e.rule + "]") << "\n";
      }
    });
  }

  SimReport Go() {
    start_ = loop_.Now();
    for (const GroupSpec& g : sc_.groups) {
      groups_[g.name] = g;
      for (const auto& z : g.zones) (void)z;
    }
    StartLifeline();
    ScheduleFaults();
    ArmStallWatch();
    MonoTime end = start_ + sc_.duration;
    while (loop_.Now() < end) {
      loop_.RunFor(seconds(1));
      CheckStep();
    }
    CheckEnd();
    report_.destructive_actions = destructive_;
    report_.launches = provider_.instances_created();
    report_.recoveries_succeeded += controller_->stats().recoveries_succeeded;
    report_.deferrals += controller_->stats().deferrals;
    for (const auto& [name, g] : groups_) {
      report_.final_desired += g.desired;
      report_.instance_hours += g.desired * ToSeconds(sc_.duration) / 3600.0;
    }
    for (const auto& [id, rec] : controller_->instances()) {
      if (rec.role == InstanceRole::kActive && !rec.verdict.unhealthy) {
        ++report_.final_active;
      }
    }
    return report_;
  }

 private:
  static SimConfig MakeSimConfig(const Scenario& sc) {
    SimConfig c = DefaultSimConfig();
    c.zones.clear();
    for (const auto& z : sc.zones) {
      SimZoneConfig zc;
      zc.name = z;
      zc.hosts = sc.hosts_per_zone;
      zc.zone_capacity = sc.zone_capacity;
      c.zones.push_back(zc);
    }
    return c;
  }

  void StartLifeline() {
    ControllerConfig cc;
    cc.seed = seed_;
    cc.safety = sc_.safety;
    controller_ = std::make_unique<Controller>(loop_, recording_, history_, cc,
                                               &journal_);
    heartbeats_ = std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
    for (const auto& [name, g] : groups_) {
      Status s = controller_->ApplyGroup(g, "scenario");
      if (!s.ok()) Violate("setup", s.ToString());
    }
    if (frozen_) (void)controller_->SetFleetFrozen(true, "scenario", "scenario");
    controller_->Start();
    for (const auto& [id, wf] : controller_->workflows()) (void)wf, loaded_.insert(id);
  }

  // The daemon's loop-lateness watch, in simulated time.
  void ArmStallWatch() {
    MonoTime due = loop_.Now() + std::chrono::milliseconds(100);
    loop_.RunAt(due, [this, due] {
      Duration late = loop_.Now() - due;
      if (late > seconds(1) && controller_) controller_->OnLoopStall(late);
      ArmStallWatch();
    });
  }

  std::vector<std::string> LiveIds() {
    return provider_.InstanceIds(/*include_terminated=*/false);
  }
  std::string RandomLive() {
    auto ids = LiveIds();
    if (ids.empty()) return "";
    return ids[rng_.UniformInt(0, static_cast<int64_t>(ids.size()) - 1)];
  }

  void ScheduleFaults() {
    for (size_t i = 0; i < sc_.faults.size(); ++i) {
      const FaultSpec& f = sc_.faults[i];
      loop_.RunAt(start_ + f.at, [this, f, i] { Apply(f, i); });
      if (f.duration > Duration::zero() && f.kind != FaultKind::kStall) {
        loop_.RunAt(start_ + f.at + f.duration, [this, f, i] { End(f, i); });
      }
      MonoTime over = start_ + f.at + f.duration;
      if (over > last_fault_end_) last_fault_end_ = over;
    }
  }

  void TraceFault(const char* what, const FaultSpec& f) {
    if (!opt_.trace) return;
    *opt_.trace << FormatDuration(loop_.Now() - start_) << "  fault." << what << "  "
                << ToString(f.kind) << (f.zone.empty() ? "" : " zone=" + f.zone)
                << " count=" << f.count << " fraction=" << f.fraction
                << " duration=" << FormatDuration(f.duration) << "\n";
  }

  // `index`: the fault's place in the scenario, so that overlapping faults
  // of one kind end separately.
  void Apply(const FaultSpec& f, size_t index) {
    TraceFault("start", f);
    if (IsObserverFault(f.kind)) ++observer_faults_;
    switch (f.kind) {
      case FaultKind::kFailHost:
        for (int i = 0; i < f.count; ++i) (void)provider_.FailHostOf(RandomLive());
        break;
      case FaultKind::kFailZone:
        (void)provider_.FailZone(f.zone);
        break;
      case FaultKind::kCrash:
        for (int i = 0; i < f.count; ++i) (void)provider_.CrashInstance(RandomLive());
        break;
      case FaultKind::kHang:
        for (int i = 0; i < f.count; ++i) (void)provider_.HangApplication(RandomLive());
        break;
      case FaultKind::kTerminateBehindBack:
        for (int i = 0; i < f.count; ++i) {
          (void)provider_.TerminateBehindBack(RandomLive());
        }
        break;
      case FaultKind::kCapacityShortage:
        (void)provider_.SetCapacityShortage(f.zone, true);
        break;
      case FaultKind::kDegradeZone: {
        SimDegradation d;
        (void)provider_.DegradeZone(f.zone, d);
        break;
      }
      case FaultKind::kApiThrottle: {
        SimApiFaults a;
        a.throttle_rate = f.rate;
        provider_.SetApiFaults(a);
        break;
      }
      case FaultKind::kApiOutage:
        provider_.StartApiOutage(f.duration > Duration::zero()
                                     ? loop_.Now() + f.duration
                                     : MonoTime::max());
        break;
      case FaultKind::kPartition:
        heartbeats_->PartitionZone(f.zone);
        break;
      case FaultKind::kMassFalseFailure:
        // The same share of every group's agents report "failing".
        for (const auto& [name, g] : groups_) {
          auto members = controller_->GroupInstances(name);
          size_t n = static_cast<size_t>(f.fraction * static_cast<double>(members.size()) + 0.5);
          for (size_t i = 0; i < n && i < members.size(); ++i) {
            const std::string& id = members[i]->info.id;
            heartbeats_->ReportFailing(id, true);
            ++false_reports_[id];
            falsely_failing_[index].push_back(id);
          }
        }
        break;
      case FaultKind::kStall:
        // Nothing of Lifeline runs for the duration: time jumps, and every
        // timer due meanwhile fires late, at once.
        clock_.Advance(f.duration);
        loop_.RunAt(loop_.Now(), [this] { --observer_faults_; });
        stall_settle_until_ = loop_.Now() + minutes(1);
        break;
      case FaultKind::kCrashLifeline:
        CrashLifeline();
        break;
      case FaultKind::kFreeze:
        frozen_ = true;
        (void)controller_->SetFleetFrozen(true, "scenario", "scenario");
        break;
    }
  }

  void End(const FaultSpec& f, size_t index) {
    TraceFault("end", f);
    switch (f.kind) {
      case FaultKind::kFailZone:
        (void)provider_.RecoverZone(f.zone);
        break;
      case FaultKind::kCapacityShortage:
        (void)provider_.SetCapacityShortage(f.zone, false);
        break;
      case FaultKind::kDegradeZone:
        (void)provider_.HealZone(f.zone);
        break;
      case FaultKind::kApiThrottle:
        provider_.ClearApiFaults();
        break;
      case FaultKind::kApiOutage:
        provider_.EndApiOutage();
        break;
      case FaultKind::kPartition:
        heartbeats_->HealPartition(f.zone);
        break;
      case FaultKind::kMassFalseFailure:
        // An instance another mass false failure still covers stays failing.
        for (const auto& id : falsely_failing_[index]) {
          if (--false_reports_[id] == 0) heartbeats_->ReportFailing(id, false);
        }
        falsely_failing_.erase(index);
        break;
      case FaultKind::kFreeze:
        frozen_ = false;
        (void)controller_->SetFleetFrozen(false, "scenario", "scenario");
        break;
      default:
        break;
    }
    if (IsObserverFault(f.kind)) {
      // Lifeline needs a moment to hear the truth again.
      loop_.RunAfter(minutes(1), [this] { --observer_faults_; });
    }
  }

  void CrashLifeline() {
    std::set<std::string> before;
    for (const auto& [id, wf] : controller_->workflows()) {
      // Only approved work is journaled durably; awaiting workflows are
      // rebuilt from the instances' health after the restart.
      if (wf.approved) before.insert(id);
    }
    heartbeats_.reset();
    controller_.reset();
    ++report_.recoveries_succeeded;  // keep the dead controller's tally
    --report_.recoveries_succeeded;
    StartLifeline();
    if (Wants("I6")) {
      for (const auto& id : before) {
        if (!controller_->workflows().count(id)) {
          Violate("I6", "workflow " + id + " was lost across the restart");
        }
      }
    }
  }

  bool Wants(const char* inv) const {
    return std::find(sc_.invariants.begin(), sc_.invariants.end(), inv) !=
           sc_.invariants.end();
  }

  void Violate(const std::string& inv, const std::string& detail) {
    if (report_.violations.size() < 50) {
      report_.violations.push_back(
          {inv, FormatDuration(loop_.Now() - start_), detail});
    }
  }

  void OnDestructive(const DestructiveCall& c) {
    ++destructive_;
    MonoTime now = loop_.Now();
    std::string group = c.truth ? c.truth->group : "";
    std::string zone = c.truth ? c.truth->zone : "";
    // I5: frozen or dry-run groups receive nothing destructive.
    auto g = groups_.find(group);
    if (Wants("I5") && (frozen_ || (g != groups_.end() && g->second.safety.dry_run))) {
      Violate("I5", c.op + " of " + c.instance + " while " +
                        (frozen_ ? "the fleet is frozen" : "group " + group + " is in dry-run"));
    }
    // I2: observer-side faults must not hurt healthy instances.
    bool observer_fault = observer_faults_ > 0 || now < stall_settle_until_;
    bool healthy = c.truth && c.truth->healthy();
    if (Wants("I2") && observer_fault && healthy && c.op != "stop") {
      Violate("I2", c.op + " of " + c.instance +
                        ", healthy in ground truth, during an observer-side fault");
    }
    // I1: budgets over any 60 s window.
    if (Wants("I1")) {
      recent_.push_back({now, group, zone});
      while (!recent_.empty() && now - recent_.front().at >= seconds(60)) {
        recent_.pop_front();
      }
      int in_group = 0, in_zone = 0, fleet = static_cast<int>(recent_.size());
      for (const auto& r : recent_) {
        in_group += r.group == group;
        in_zone += r.zone == zone;
      }
      // A bucket can spend its burst and then its refill within a window.
      double fleet_cap = sc_.safety.fleet_burst + sc_.safety.fleet_actions_per_minute;
      double zone_cap = sc_.safety.zone_burst + sc_.safety.zone_actions_per_minute;
      if (fleet > fleet_cap) Violate("I1", "fleet budget exceeded: " + std::to_string(fleet));
      if (in_zone > zone_cap) Violate("I1", "zone " + zone + " budget exceeded");
      if (g != groups_.end()) {
        // Each replacement is one approved action plus the terminate that
        // completes it.
        double group_cap = 2 * (g->second.safety.burst + g->second.safety.actions_per_minute);
        if (in_group > group_cap) Violate("I1", "group " + group + " budget exceeded");
      }
    }
  }

  void CheckStep() {
    Status acc = controller_->CheckAccounting();
    if (!acc.ok()) Violate("accounting", acc.ToString());
    if (!Wants("I3")) return;
    // At most one live replacement per workflow (launch tokens "wf-N-k").
    std::map<std::string, int> live_by_workflow;
    for (const auto& id : LiveIds()) {
      auto t = provider_.GroundTruth(id);
      if (!t || t->launched_by_token.empty()) continue;
      std::string wf = t->launched_by_token.substr(0, t->launched_by_token.rfind('-'));
      if (++live_by_workflow[wf] > 1) {
        Violate("I3", "workflow " + wf + " has more than one live instance");
      }
    }
  }

  void CheckEnd() {
    // Let the fleet settle: no orphans once nothing is in flight.
    if (Wants("I3")) {
      std::set<std::string> tokens_in_flight;
      for (const auto& [id, wf] : controller_->workflows()) tokens_in_flight.insert(id);
      for (const auto& id : LiveIds()) {
        if (controller_->instance(id)) continue;
        auto t = provider_.GroundTruth(id);
        std::string wf = t && !t->launched_by_token.empty()
                             ? t->launched_by_token.substr(0, t->launched_by_token.rfind('-'))
                             : "";
        if (!tokens_in_flight.count(wf)) {
          Violate("I3", "orphan instance " + id + " (launched, unknown to Lifeline)");
        }
      }
    }
    if (Wants("I4") && last_fault_end_ + sc_.capacity_restored_within <= start_ + sc_.duration) {
      for (const auto& [name, g] : groups_) {
        if (g.safety.dry_run || frozen_) continue;
        int healthy = 0;
        for (const auto* r : controller_->GroupInstances(name)) {
          auto t = provider_.GroundTruth(r->info.id);
          if (r->role != InstanceRole::kActive || !t) continue;
          // Only failures the group's checks can see count: a hung
          // application is invisible without application checks.
          bool ok = g.check_application
                        ? t->app_alive()
                        : t->lifecycle == Lifecycle::kRunning &&
                              !t->host_failed && !t->crashed;
          if (ok) ++healthy;
        }
        if (healthy < g.desired) {
          Violate("I4", "group " + name + " has " + std::to_string(healthy) +
                            " healthy instances of " + std::to_string(g.desired) +
                            " desired, " + FormatDuration(sc_.capacity_restored_within) +
                            " after the last fault");
        }
      }
    }
  }

  struct Recent {
    MonoTime at;
    std::string group, zone;
  };

  const Scenario& sc_;
  uint64_t seed_;
  RunOptions opt_;
  SimClock clock_;
  SimLoop loop_;
  Rng rng_;
  SimProvider provider_;
  RecordingProvider recording_;
  MemoryHistory history_{200000};
  MemoryJournal journal_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<SimHeartbeats> heartbeats_;
  std::map<std::string, GroupSpec> groups_;
  std::set<std::string> loaded_;
  std::map<size_t, std::vector<std::string>> falsely_failing_;  // by fault
  std::map<std::string, int> false_reports_;  // faults covering an instance
  std::deque<Recent> recent_;
  MonoTime start_{};
  MonoTime last_fault_end_{};
  MonoTime stall_settle_until_{};
  int observer_faults_ = 0;
  bool frozen_ = false;
  uint64_t destructive_ = 0;
  SimReport report_;
};

}  // namespace

SimReport RunScenario(const Scenario& scenario, uint64_t seed,
                      const RunOptions& options) {
  Run run(scenario, seed, options);
  return run.Go();
}

Scenario RandomizeFaults(const Scenario& base, uint64_t seed) {
  Scenario s = base;
  s.faults.clear();
  s.seed = seed;
  Rng rng(seed);
  int n = static_cast<int>(rng.UniformInt(1, 4));
  Duration span = s.duration - s.capacity_restored_within - minutes(5);
  if (span < minutes(1)) span = minutes(1);
  for (int i = 0; i < n; ++i) {
    FaultSpec f;
    f.at = minutes(3) + rng.UniformDuration(Duration::zero(), span - minutes(3) > Duration::zero() ? span - minutes(3) : minutes(1));
    static const FaultKind kinds[] = {
        FaultKind::kFailHost,   FaultKind::kCrash,
        FaultKind::kHang,       FaultKind::kTerminateBehindBack,
        FaultKind::kFailZone,   FaultKind::kCapacityShortage,
        FaultKind::kApiThrottle, FaultKind::kApiOutage,
        FaultKind::kPartition,  FaultKind::kMassFalseFailure,
        FaultKind::kStall,      FaultKind::kCrashLifeline,
        FaultKind::kFreeze};
    f.kind = kinds[rng.UniformInt(0, static_cast<int64_t>(std::size(kinds)) - 1)];
    f.zone = rng.Bernoulli(0.3) && f.kind == FaultKind::kPartition
                 ? ""
                 : s.zones[rng.UniformInt(0, static_cast<int64_t>(s.zones.size()) - 1)];
    f.count = static_cast<int>(rng.UniformInt(1, 3));
    // Hung applications whose peers are silent too look exactly like a
    // partition of their zone; with heartbeats alone Lifeline (rightly)
    // refuses to act, so I4 could not hold. One hang at a time.
    if (f.kind == FaultKind::kHang) f.count = 1;
    // A mass event: above the default panic threshold of every group.
    f.fraction = 0.6 + 0.4 * rng.Uniform();
    f.rate = 0.2 + 0.7 * rng.Uniform();
    f.duration = rng.UniformDuration(seconds(10), minutes(10));
    if (f.kind == FaultKind::kStall) f.duration = rng.UniformDuration(seconds(1), seconds(40));
    s.faults.push_back(f);
  }
  return s;
}

}  // namespace lifeline
