// ProcessProvider: Launch, including launches from snapshots whose copies
// run on worker threads. See process_provider.h.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <thread>

#include "providers/process/instance_state.h"
#include "providers/process/process_provider.h"
#include "providers/process/process_util.h"

namespace lifeline {

namespace fs = std::filesystem;
using process::InstanceRecord;

namespace {

std::string ZoneSuffix(const std::string& zone) {
  size_t dash = zone.rfind('-');
  return dash == std::string::npos ? zone : zone.substr(dash + 1);
}

}  // namespace

void ProcessProvider::Launch(const LaunchRequest& req,
                             Done<InstanceInfo> done) {
  auto fail = [this, &done](Status st) {
    Complete(std::move(done), std::move(st));
  };
  std::string op = "process: Launch(group " + req.group + ", token '" +
                   req.idempotency_token + "'): ";
  if (!usable_) {
    return fail(FailedPrecondition(op + init_status_.message()));
  }
  if (!process::IsSafeName(req.group)) {
    return fail(
        InvalidArgument(op + "group name must be 1-64 of [A-Za-z0-9._-]"));
  }
  if (req.spec.command.empty()) {
    return fail(InvalidArgument(op + "launch spec has no command"));
  }
  if (Status st = process::CheckVolumes(req, op); !st.ok()) return fail(st);
  if (req.idempotency_token.size() > 100) {
    return fail(
        InvalidArgument(op + "idempotency token longer than 100 bytes"));
  }
  std::string zone = req.zone;
  if (zone.empty()) {
    // The zone with the fewest instances of the group, first on ties.
    size_t best = SIZE_MAX;
    for (const auto& z : config_.zones) {
      size_t n = 0;
      for (const auto& [id, inst] : instances_) {
        n += inst->rec.group == req.group && inst->rec.zone == z;
      }
      if (n < best) {
        best = n;
        zone = z;
      }
    }
  }
  if (std::find(config_.zones.begin(), config_.zones.end(), zone) ==
      config_.zones.end()) {
    return fail(InvalidArgument(op + "unknown zone '" + zone + "'"));
  }
  uint64_t hash = process::HashLaunch(req.group, req.zone, req.spec);
  if (!req.idempotency_token.empty()) {
    if (auto entry = state_.FindToken(req.idempotency_token)) {
      if (entry->launch_hash != hash) {
        return fail(InvalidArgument(op +
                                    "token already used by a different "
                                    "launch (instance " +
                                    entry->instance_id + ")"));
      }
      if (const Instance* inst = Find(entry->instance_id)) {
        return Complete(std::move(done), Result<InstanceInfo>(InfoOf(*inst)));
      }
      InstanceInfo gone;
      gone.id = entry->instance_id;
      gone.group = req.group;
      gone.lifecycle = Lifecycle::kTerminated;
      gone.launch_token = req.idempotency_token;
      return Complete(std::move(done), Result<InstanceInfo>(gone));
    }
  }
  std::string id;
  do {
    auto n = state_.Next("instance");
    if (!n.ok()) return fail(process::WithContext(n.status(), op));
    id = req.group + "-" + ZoneSuffix(zone) + "-" + std::to_string(*n);
  } while (Find(id) != nullptr || fs::exists(state_.RecordPath(id)));

  auto inst = std::make_unique<Instance>();
  InstanceRecord& r = inst->rec;
  r.id = id;
  r.group = req.group;
  r.zone = zone;
  r.token = req.idempotency_token;
  r.spec = req.spec;
  r.spec_hash = hash;
  r.data_dir = state_.DataDir(id);
  r.want_running = !req.stopped;
  r.launch_time = clock_.WallNow();
  r.launched = req.volume_snapshots.empty();
  op = "process: Launch(" + id + "): ";
  // Record and token first: a daemon crash after this point leaves a
  // stopped instance (re-launch with the token finds it), never a
  // duplicate.
  Status st = SaveRecord(*inst);
  if (st.ok() && !r.token.empty()) {
    st = state_.SaveToken(r.token, {id, hash});
  }
  CopyJobs copies;
  if (st.ok()) st = PrepareVolumes(req, *inst, &copies);
  if (!st.ok()) {
    AbandonLaunch(id, r.token);
    return fail(process::WithContext(st, op));
  }
  inst->preparing = true;
  instances_[id] = std::move(inst);
  if (copies.empty()) return FinishLaunch(id, Status::Ok(), std::move(done));
  RunCopies(std::move(copies), [this, id, done](Status copied) {
    FinishLaunch(id, copied, done);
  });
}

void ProcessProvider::FinishLaunch(const std::string& id, Status copied,
                                   Done<InstanceInfo> done) {
  Instance* inst = Find(id);
  if (inst == nullptr) return;  // operations wait for preparation to end
  inst->preparing = false;
  std::string op = "process: Launch(" + id + "): ";
  Status st = process::WithContext(copied, op);
  if (st.ok() && !inst->rec.launched) {
    inst->rec.launched = true;
    st = process::WithContext(SaveRecord(*inst), op);
  }
  if (st.ok() && !inst->terminating && inst->rec.want_running) {
    st = SpawnProcess(*inst);
    // Running and watched: a failed record write alone does not fail it.
    if (inst->pidfd >= 0) st = Status::Ok();
  }
  std::vector<Continuation> waiters = std::move(inst->on_down);
  inst->on_down.clear();
  if (!st.ok()) {
    std::string token = inst->rec.token;
    instances_.erase(id);
    unsaved_.erase(id);
    ForgetLogs(id);
    AbandonLaunch(id, token);
    // Queued operations find the instance gone and answer accordingly.
    for (auto& then : waiters) then(Status::Ok());
    return Complete(std::move(done), st);
  }
  if (!inst->terminating) Notify(*inst);
  InstanceInfo info = InfoOf(*inst);
  for (auto& then : waiters) then(Status::Ok());  // may terminate it
  if (Find(id) == nullptr) info.lifecycle = Lifecycle::kTerminated;
  Complete(std::move(done), Result<InstanceInfo>(std::move(info)));
}

void ProcessProvider::RunCopies(CopyJobs jobs, Continuation then) {
  uint64_t key = ++next_copier_;
  std::weak_ptr<int> alive = alive_;
  EventLoop& loop = loop_;
  // The worker touches only the file system; its result is handed to the
  // loop, where `this` is used only while the provider is alive.
  copiers_[key] = std::thread([this, key, alive, &loop, jobs = std::move(jobs),
                               then = std::move(then)]() mutable {
    Status st;
    for (const auto& [from, to] : jobs) {
      st = process::CopyTree(from, to);
      if (!st.ok()) break;
    }
    loop.Post([this, key, alive, then = std::move(then), st] {
      if (alive.expired()) return;
      auto it = copiers_.find(key);
      if (it != copiers_.end()) {
        it->second.join();  // it has finished: this was its last act
        copiers_.erase(it);
      }
      then(st);
    });
  });
}

}  // namespace lifeline
