#include "sim/runner.h"

#include <algorithm>
#include <ostream>

#include "sim/run.h"

namespace lifeline {

using std::chrono::minutes;
using std::chrono::seconds;

Run::Run(const Scenario& sc, uint64_t seed, const RunOptions& opt)
    : sc_(sc),
      seed_(seed),
      opt_(opt),
      loop_(clock_),
      rng_(seed ^ 0x5eed),
      provider_(loop_, seed, MakeSimConfig(sc)),
      recording_(
          provider_, [this](const DestructiveCall& c) { OnDestructive(c); },
          [this](const LaunchRequest& r) { OnLaunch(r); }) {
  report_.scenario = sc.name;
  report_.seed = seed;
  history_.AddListener([this](const HistoryEvent& e) { OnHistory(e); });
  // Only a gray failure changes what the agents would report; without one
  // the reports would cost time and change nothing.
  wants_load_reports_ = std::any_of(
      sc.faults.begin(), sc.faults.end(),
      [](const FaultSpec& f) { return f.kind == FaultKind::kDegradeZone; });
}

SimReport Run::Go() {
  start_ = loop_.Now();
  for (const GroupSpec& g : sc_.groups) groups_[g.name] = g;
  PlanCapacityChecks();
  StartLifeline();
  ScheduleFaults();
  ArmStallWatch();
  MonoTime end = start_ + sc_.duration;
  while (loop_.Now() < end) {
    loop_.RunFor(seconds(1));
    if (opt_.every_second) {
      opt_.every_second(loop_.Now() - start_, *controller_, recording_);
    }
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

SimConfig Run::MakeSimConfig(const Scenario& sc) {
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

void Run::StartLifeline() {
  ControllerConfig cc;
  cc.seed = seed_;
  cc.safety = sc_.safety;
  std::vector<GroupSpec> given;
  for (const auto& [name, g] : groups_) given.push_back(g);
  if (opt_.configure_lifeline) opt_.configure_lifeline(cc, given);
  controller_ =
      std::make_unique<Controller>(loop_, recording_, history_, cc, &journal_);
  heartbeats_ = std::make_unique<SimHeartbeats>(loop_, provider_, *controller_);
  for (const GroupSpec& g : given) {
    Status s = controller_->ApplyGroup(g, "scenario");
    if (!s.ok()) Violate("setup", s.ToString());
  }
  // A freeze is not applied again here: a restarted Lifeline must find it
  // in its journal (CheckRestart).
  controller_->Start();
  if (wants_load_reports_) {
    load_reports_ = std::make_unique<SimLoadReporter>(*controller_, provider_);
  }
}

void Run::CrashLifeline() {
  std::set<std::string> approved;
  for (const auto& [id, wf] : controller_->workflows()) {
    // Only approved work is journaled durably; awaiting workflows are
    // rebuilt from the instances' health after the restart.
    if (wf.approved) approved.insert(id);
  }
  // Keep the dead controller's tally.
  report_.recoveries_succeeded += controller_->stats().recoveries_succeeded;
  report_.deferrals += controller_->stats().deferrals;
  ++report_.restarts;
  load_reports_.reset();
  heartbeats_.reset();
  controller_.reset();
  if (opt_.before_restart) opt_.before_restart(journal_);
  StartLifeline();
  CheckRestart(approved);
}

// The daemon's loop-lateness watch, in simulated time.
void Run::ArmStallWatch() {
  MonoTime due = loop_.Now() + std::chrono::milliseconds(100);
  loop_.RunAt(due, [this, due] {
    Duration late = loop_.Now() - due;
    if (late > seconds(1) && controller_) controller_->OnLoopStall(late);
    ArmStallWatch();
  });
}

std::vector<std::string> Run::LiveIds() {
  return provider_.InstanceIds(/*include_terminated=*/false);
}

std::string Run::RandomLive() {
  auto ids = LiveIds();
  if (ids.empty()) return "";
  return ids[rng_.UniformInt(0, static_cast<int64_t>(ids.size()) - 1)];
}

void Run::ScheduleFaults() {
  for (size_t i = 0; i < sc_.faults.size(); ++i) {
    const FaultSpec& f = sc_.faults[i];
    loop_.RunAt(start_ + f.at, [this, f, i] { Apply(f, i); });
    if (f.duration > Duration::zero() && f.kind != FaultKind::kStall) {
      loop_.RunAt(start_ + f.at + f.duration, [this, f, i] { End(f, i); });
    }
  }
}

void Run::TraceFault(const char* what, const FaultSpec& f) {
  if (!opt_.trace) return;
  *opt_.trace << FormatDuration(loop_.Now() - start_) << "  fault." << what
              << "  " << ToString(f.kind)
              << (f.zone.empty() ? "" : " zone=" + f.zone)
              << " count=" << f.count << " fraction=" << f.fraction
              << " duration=" << FormatDuration(f.duration) << "\n";
}

// `index`: the fault's place in the scenario, so that overlapping faults
// of one kind end separately.
void Run::Apply(const FaultSpec& f, size_t index) {
  TraceFault("start", f);
  if (IsObserverFault(f.kind)) ++observer_faults_;
  switch (f.kind) {
    case FaultKind::kFailHost:
      for (int i = 0; i < f.count; ++i)
        (void)provider_.FailHostOf(RandomLive());
      break;
    case FaultKind::kFailZone:
      ++failed_zones_[f.zone];
      (void)provider_.FailZone(f.zone);
      break;
    case FaultKind::kCrash:
      for (int i = 0; i < f.count; ++i) {
        (void)provider_.CrashInstance(RandomLive());
      }
      break;
    case FaultKind::kHang:
      for (int i = 0; i < f.count; ++i) {
        (void)provider_.HangApplication(RandomLive());
      }
      break;
    case FaultKind::kTerminateBehindBack:
      for (int i = 0; i < f.count; ++i) {
        (void)provider_.TerminateBehindBack(RandomLive());
      }
      break;
    case FaultKind::kCapacityShortage:
      ++short_zones_[f.zone];
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
        size_t n = static_cast<size_t>(
            f.fraction * static_cast<double>(members.size()) + 0.5);
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

void Run::End(const FaultSpec& f, size_t index) {
  TraceFault("end", f);
  switch (f.kind) {
    case FaultKind::kFailZone:
      if (--failed_zones_[f.zone] == 0) (void)provider_.RecoverZone(f.zone);
      break;
    case FaultKind::kCapacityShortage:
      if (--short_zones_[f.zone] == 0) {
        (void)provider_.SetCapacityShortage(f.zone, false);
      }
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
  // Every fault ends early enough for its I4 deadline to fall in the run.
  const Duration latest_end = s.duration - s.capacity_restored_within;
  for (int i = 0; i < n; ++i) {
    FaultSpec f;
    f.at = minutes(3) + rng.UniformDuration(Duration::zero(),
                                            span - minutes(3) > Duration::zero()
                                                ? span - minutes(3)
                                                : minutes(1));
    static const FaultKind kinds[] = {
        FaultKind::kFailHost,    FaultKind::kCrash,
        FaultKind::kHang,        FaultKind::kTerminateBehindBack,
        FaultKind::kFailZone,    FaultKind::kCapacityShortage,
        FaultKind::kApiThrottle, FaultKind::kApiOutage,
        FaultKind::kPartition,   FaultKind::kMassFalseFailure,
        FaultKind::kStall,       FaultKind::kCrashLifeline,
        FaultKind::kFreeze};
    f.kind =
        kinds[rng.UniformInt(0, static_cast<int64_t>(std::size(kinds)) - 1)];
    f.zone = rng.Bernoulli(0.3) && f.kind == FaultKind::kPartition
                 ? ""
                 : s.zones[rng.UniformInt(
                       0, static_cast<int64_t>(s.zones.size()) - 1)];
    f.count = static_cast<int>(rng.UniformInt(1, 3));
    // Hung applications whose peers are silent too look exactly like a
    // partition of their zone; with heartbeats alone Lifeline (rightly)
    // refuses to act, so I4 could not hold. One hang at a time.
    if (f.kind == FaultKind::kHang) f.count = 1;
    // A mass event: above the default panic threshold of every group.
    f.fraction = 0.6 + 0.4 * rng.Uniform();
    f.rate = 0.2 + 0.7 * rng.Uniform();
    f.duration = rng.UniformDuration(seconds(10), minutes(10));
    if (f.kind == FaultKind::kStall)
      f.duration = rng.UniformDuration(seconds(1), seconds(40));
    if (f.at + f.duration > latest_end && latest_end - f.at >= seconds(1)) {
      f.duration = latest_end - f.at;
    }
    s.faults.push_back(f);
  }
  return s;
}

}  // namespace lifeline
