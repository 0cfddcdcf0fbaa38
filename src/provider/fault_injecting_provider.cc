#include "provider/fault_injecting_provider.h"

#include <utility>

namespace lifeline {

namespace {
constexpr std::array<std::string_view, kProviderOpCount> kOpNames{
    "ListZones",     "Launch",          "Terminate",    "Reboot",
    "Stop",          "Start",           "Recover",      "DescribeStatus",
    "ListInstances", "SnapshotVolumes", "AttachVolume", "DetachVolume",
    "MoveAddress",
};
}  // namespace

std::string_view ToString(ProviderOp op) {
  size_t i = static_cast<size_t>(op);
  return i < kOpNames.size() ? kOpNames[i] : "unknown";
}

FaultInjectingProvider::FaultInjectingProvider(Provider& inner, EventLoop& loop,
                                               Rng rng)
    : ForwardingProvider(inner),
      loop_(loop),
      rng_(rng),
      name_("fault(" + std::string(inner.name()) + ")") {}

FaultInjectingProvider::~FaultInjectingProvider() { *alive_ = false; }

size_t FaultInjectingProvider::AddRule(FaultRule rule) {
  rules_.push_back(std::move(rule));
  return rules_.size() - 1;
}

void FaultInjectingProvider::SetOutage(MonoTime from, MonoTime until) {
  outage_ = Window{from, until};
}

FaultInjectingProvider::Decision FaultInjectingProvider::Decide(
    ProviderOp op, const std::string& what) {
  Decision d;
  MonoTime now = loop_.Now();
  if (outage_ && now >= outage_->from && now < outage_->until) {
    d.error = Unavailable("fault: " + what + ": injected outage for another " +
                          FormatDuration(outage_->until - now));
    return d;
  }
  for (const FaultRule& rule : rules_) {
    if (rule.op && *rule.op != op) continue;
    if (rule.error_rate > 0 && rng_.Bernoulli(rule.error_rate)) {
      d.error = Status(rule.error_code,
                       "fault: " + what + ": injected " +
                           std::string(lifeline::ToString(rule.error_code)));
      if (rule.retry_after) d.error.set_retry_after(*rule.retry_after);
      d.drop = false;
      return d;
    }
    if (rule.drop_rate > 0 && rng_.Bernoulli(rule.drop_rate)) d.drop = true;
    d.delay += rule.added_latency;
    if (rule.latency_jitter.count() > 0) {
      d.delay += rng_.UniformDuration(Duration(0), rule.latency_jitter);
    }
  }
  return d;
}

void FaultInjectingProvider::Deliver(Duration delay, std::function<void()> fn) {
  auto guarded = [alive = std::weak_ptr<bool>(alive_), fn = std::move(fn)] {
    auto a = alive.lock();
    if (a && *a) fn();
  };
  if (delay.count() > 0) {
    loop_.RunAfter(delay, std::move(guarded));
  } else {
    loop_.Post(std::move(guarded));
  }
}

template <typename R, typename Forward>
void FaultInjectingProvider::Run(ProviderOp op, const std::string& what,
                                 Forward forward, std::function<void(R)> done) {
  FaultCounters& c = counters_[static_cast<size_t>(op)];
  ++c.calls;
  Decision d = Decide(op, what);
  if (d.delay.count() > 0) ++c.delayed;
  if (!d.error.ok()) {
    ++c.injected_errors;
    Deliver(d.delay,
            [done = std::move(done), error = d.error] { done(error); });
    return;
  }
  ++c.forwarded;
  forward([this, op, d, alive = std::weak_ptr<bool>(alive_),
           done = std::move(done)](R result) mutable {
    auto a = alive.lock();
    if (!a || !*a) return;
    if (d.drop) {
      ++counters_[static_cast<size_t>(op)].dropped;
      return;
    }
    if (d.delay.count() > 0) {
      Deliver(d.delay, [done = std::move(done), result = std::move(result)] {
        done(result);
      });
    } else {
      done(std::move(result));
    }
  });
}

void FaultInjectingProvider::ListZones(Done<std::vector<ZoneInfo>> done) {
  Run<Result<std::vector<ZoneInfo>>>(
      ProviderOp::kListZones, "ListZones()",
      [this](Done<std::vector<ZoneInfo>> cb) {
        inner().ListZones(std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::Launch(const LaunchRequest& request,
                                    Done<InstanceInfo> done) {
  Run<Result<InstanceInfo>>(
      ProviderOp::kLaunch,
      "Launch(" + request.group + ", " + request.zone + ")",
      [this, &request](Done<InstanceInfo> cb) {
        inner().Launch(request, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::Terminate(const std::string& id, DoneStatus done) {
  Run<Status>(
      ProviderOp::kTerminate, "Terminate(" + id + ")",
      [this, &id](DoneStatus cb) { inner().Terminate(id, std::move(cb)); },
      std::move(done));
}

void FaultInjectingProvider::Reboot(const std::string& id, DoneStatus done) {
  Run<Status>(
      ProviderOp::kReboot, "Reboot(" + id + ")",
      [this, &id](DoneStatus cb) { inner().Reboot(id, std::move(cb)); },
      std::move(done));
}

void FaultInjectingProvider::Stop(const std::string& id, DoneStatus done) {
  Run<Status>(
      ProviderOp::kStop, "Stop(" + id + ")",
      [this, &id](DoneStatus cb) { inner().Stop(id, std::move(cb)); },
      std::move(done));
}

void FaultInjectingProvider::Start(const std::string& id, DoneStatus done) {
  Run<Status>(
      ProviderOp::kStart, "Start(" + id + ")",
      [this, &id](DoneStatus cb) { inner().Start(id, std::move(cb)); },
      std::move(done));
}

void FaultInjectingProvider::Recover(const std::string& id, DoneStatus done) {
  Run<Status>(
      ProviderOp::kRecover, "Recover(" + id + ")",
      [this, &id](DoneStatus cb) { inner().Recover(id, std::move(cb)); },
      std::move(done));
}

void FaultInjectingProvider::DescribeStatus(
    const std::vector<std::string>& ids,
    Done<std::vector<InstanceStatus>> done) {
  Run<Result<std::vector<InstanceStatus>>>(
      ProviderOp::kDescribeStatus,
      "DescribeStatus(" + std::to_string(ids.size()) + " instances)",
      [this, &ids](Done<std::vector<InstanceStatus>> cb) {
        inner().DescribeStatus(ids, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::ListInstances(
    const std::string& group, Done<std::vector<InstanceInfo>> done) {
  Run<Result<std::vector<InstanceInfo>>>(
      ProviderOp::kListInstances, "ListInstances(" + group + ")",
      [this, &group](Done<std::vector<InstanceInfo>> cb) {
        inner().ListInstances(group, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::SnapshotVolumes(const std::string& id,
                                             Done<std::vector<Snapshot>> done) {
  Run<Result<std::vector<Snapshot>>>(
      ProviderOp::kSnapshotVolumes, "SnapshotVolumes(" + id + ")",
      [this, &id](Done<std::vector<Snapshot>> cb) {
        inner().SnapshotVolumes(id, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::AttachVolume(const std::string& volume_id,
                                          const std::string& instance_id,
                                          const std::string& device,
                                          DoneStatus done) {
  Run<Status>(
      ProviderOp::kAttachVolume,
      "AttachVolume(" + volume_id + ", " + instance_id + ", " + device + ")",
      [&, this](DoneStatus cb) {
        inner().AttachVolume(volume_id, instance_id, device, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::DetachVolume(const std::string& volume_id,
                                          DoneStatus done) {
  Run<Status>(
      ProviderOp::kDetachVolume, "DetachVolume(" + volume_id + ")",
      [this, &volume_id](DoneStatus cb) {
        inner().DetachVolume(volume_id, std::move(cb));
      },
      std::move(done));
}

void FaultInjectingProvider::MoveAddress(const std::string& address,
                                         const std::string& to_instance_id,
                                         DoneStatus done) {
  Run<Status>(
      ProviderOp::kMoveAddress,
      "MoveAddress(" + address + ", " + to_instance_id + ")",
      [&, this](DoneStatus cb) {
        inner().MoveAddress(address, to_instance_id, std::move(cb));
      },
      std::move(done));
}

}  // namespace lifeline
