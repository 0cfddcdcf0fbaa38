#include "providers/process/process_provider.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "providers/process/instance_state.h"
#include "providers/process/process_util.h"

namespace lifeline {

namespace fs = std::filesystem;
using process::InstanceRecord;

namespace {

std::string ZoneSuffix(const std::string& zone) {
  size_t dash = zone.rfind('-');
  return dash == std::string::npos ? zone : zone.substr(dash + 1);
}

// Signals the instance: its leader through the pidfd (immune to pid reuse)
// and, once that succeeded, the rest of its process group (setsid made the
// leader's pid the group id).
void SignalInstance(int pidfd, int pid, int sig) {
  if (process::PidfdSignal(pidfd, sig).ok()) kill(-pid, sig);
}

}  // namespace

ProcessProvider::ProcessProvider(EventLoop& loop, const Clock& clock,
                                 ProcessProviderConfig config)
    : loop_(loop),
      clock_(clock),
      config_(std::move(config)),
      state_(config_.state_dir) {
  if (config_.state_dir.empty()) {
    init_status_ = InvalidArgument("process: config: state_dir is empty");
    return;
  }
  init_status_ = state_.Init();
  if (!init_status_.ok()) return;
  auto volumes = state_.LoadVolumes();
  auto addresses = state_.LoadAddresses();
  if (!volumes.ok() || !addresses.ok()) {
    init_status_ = volumes.ok() ? addresses.status() : volumes.status();
    return;
  }
  volumes_ = std::move(*volumes);
  addresses_ = std::move(*addresses);
  init_status_ = Adopt();
  ScheduleLogCheck();
}

ProcessProvider::~ProcessProvider() {
  alive_.reset();
  for (auto& [key, worker] : copiers_) worker.join();
  loop_.Cancel(log_timer_);
  for (auto& [id, inst] : instances_) {
    loop_.Cancel(inst->grace_timer);
    loop_.Cancel(inst->kill_timer);
    if (inst->pidfd >= 0) {
      loop_.UnwatchFd(inst->pidfd);
      close(inst->pidfd);
    }
  }
}

ProcessProvider::Instance* ProcessProvider::Find(const std::string& id) {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

const ProcessProvider::Instance* ProcessProvider::Find(
    const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

std::string ProcessProvider::Describe(const Instance& inst) const {
  if (inst.rec.pid == 0) return inst.rec.id + ", no process";
  return inst.rec.id + ", pid " + std::to_string(inst.rec.pid);
}

Status ProcessProvider::SaveRecord(const Instance& inst) {
  return state_.SaveRecord(inst.rec);
}

Status ProcessProvider::Adopt() {
  std::vector<Status> errors;
  for (auto& rec : state_.LoadRecords(&errors)) {
    if (Find(rec.id) != nullptr) continue;
    if (!rec.launched) {
      // The daemon stopped while this launch copied its snapshots; no
      // process was started. Like a failed EC2 launch it ends terminated.
      AbandonLaunch(rec.id, rec.token, /*keep_token=*/true);
      continue;
    }
    auto inst = std::make_unique<Instance>();
    inst->rec = std::move(rec);
    InstanceRecord& r = inst->rec;
    bool adopted = false;
    std::string why = "is gone";
    if (r.pid > 0) {
      // Open the pidfd first, then compare start times: if the pidfd's
      // process is still alive after the read, the /proc entry we read was
      // that process and not a later holder of the pid.
      if (auto fd = process::PidfdOpen(r.pid); fd.ok()) {
        auto stat = process::ReadProcStat(r.pid);
        if (stat.ok() && stat->start_time == r.start_time &&
            !process::PidfdExited(*fd)) {
          adopted = Watch(*inst, *fd).ok();
        } else {
          if (stat.ok() && stat->start_time != r.start_time) {
            why = "now belongs to another process";
          }
          close(*fd);
        }
      }
      if (!adopted) {
        r.last_exit = "not running when adopted: pid " + std::to_string(r.pid) +
                      " " + why;
        r.pid = 0;
        r.start_time = 0;
        if (Status st = SaveRecord(*inst); !st.ok()) errors.push_back(st);
      }
    }
    Instance& ref = *inst;
    instances_[ref.rec.id] = std::move(inst);
    if (!adopted && ref.rec.want_running) Notify(ref);
  }
  if (errors.empty()) return Status::Ok();
  return process::WithContext(
      errors.front(), "process: Adopt(" + state_.root() + "): " +
                          std::to_string(errors.size()) + " error(s), first: ");
}

Status ProcessProvider::Watch(Instance& inst, int pidfd) {
  std::string id = inst.rec.id;
  Status st = loop_.WatchFd(pidfd, EPOLLIN,
                            [this, id](uint32_t) { OnProcessExit(id); });
  if (!st.ok()) {
    close(pidfd);
    return process::WithContext(st, "process: watch(" + Describe(inst) + "): ");
  }
  inst.pidfd = pidfd;
  return Status::Ok();
}

Status ProcessProvider::SpawnProcess(Instance& inst) {
  InstanceRecord& r = inst.rec;
  std::string op = "process: spawn(" + r.id + "): ";
  std::string logs = state_.LogDir(r.id);
  std::error_code ec;
  fs::create_directories(logs, ec);
  fs::create_directories(r.data_dir, ec);
  if (ec) return Internal(op + "create " + r.data_dir + ": " + ec.message());
  bool rotated = false;
  for (const char* name : {"/stdout.log", "/stderr.log"}) {
    LIFELINE_RETURN_IF_ERROR(
        process::RotateLogIfLarge(logs + name, config_.log_rotation, &rotated));
  }

  std::map<std::string, std::string> env;
  env["PATH"] = config_.default_path;
  for (const auto& [k, v] : r.spec.env) env[k] = v;
  env["LIFELINE_INSTANCE_ID"] = r.id;
  env["LIFELINE_GROUP"] = r.group;
  env["LIFELINE_ZONE"] = r.zone;
  env["LIFELINE_DATA_DIR"] = r.data_dir;
  env["LIFELINE_VOLUMES_DIR"] = state_.AttachDir(r.id);
  if (!config_.heartbeat.addr.empty()) {
    env["LIFELINE_HEARTBEAT_ADDR"] = config_.heartbeat.addr;
    const auto& hb = config_.heartbeat;
    auto group_key = hb.group_keys.find(r.group);
    bool own = group_key != hb.group_keys.end();
    env["LIFELINE_HEARTBEAT_KEY_FILE"] =
        own ? group_key->second.key_file : hb.key_file;
    env["LIFELINE_HEARTBEAT_KEY_ID"] =
        own ? group_key->second.key_id : hb.key_id;
    env["LIFELINE_HEARTBEAT_INTERVAL"] =
        FormatDuration(config_.heartbeat.interval);
  }
  process::SpawnRequest req;
  req.command = r.spec.command;
  req.args = r.spec.args;
  for (const auto& [k, v] : env) req.env.push_back(k + "=" + v);
  req.cwd = r.data_dir;
  req.stdout_path = logs + "/stdout.log";
  req.stderr_path = logs + "/stderr.log";

  auto pid = process::SpawnDetached(req);
  if (!pid.ok()) return process::WithContext(pid.status(), op);
  auto fd = process::PidfdOpen(*pid);
  auto stat = process::ReadProcStat(*pid);
  if (!fd.ok() || !stat.ok()) {
    // Cannot watch or identify it: do not leave an untracked process.
    kill(-*pid, SIGKILL);
    kill(*pid, SIGKILL);
    if (fd.ok()) {
      (void)process::ReapChild(*fd);
      close(*fd);
    }
    return process::WithContext(fd.ok() ? stat.status() : fd.status(), op);
  }
  r.pid = *pid;
  r.start_time = stat->start_time;
  r.last_exit.clear();
  LIFELINE_RETURN_IF_ERROR(Watch(inst, *fd));
  // The process runs and is watched; a failed record write only loses
  // adoption after a daemon restart, so report it but keep the instance.
  return process::WithContext(SaveRecord(inst), op);
}

void ProcessProvider::OnProcessExit(const std::string& id) {
  Instance* inst = Find(id);
  if (inst == nullptr || inst->pidfd < 0) return;
  loop_.UnwatchFd(inst->pidfd);
  // While our child is an unreaped zombie its pid (the group id) cannot be
  // reused, so the rest of its process group can be killed safely.
  if (process::IsExitedChild(inst->pidfd)) kill(-inst->rec.pid, SIGKILL);
  auto how = process::ReapChild(inst->pidfd);
  close(inst->pidfd);
  inst->pidfd = -1;
  loop_.Cancel(inst->grace_timer);
  loop_.Cancel(inst->kill_timer);
  inst->grace_timer = inst->kill_timer = EventLoop::kNoTimer;
  inst->killing_op = nullptr;
  inst->rec.last_exit = how.value_or("exited");
  inst->rec.pid = 0;
  inst->rec.start_time = 0;
  // Best effort: a stale pid in the record is re-checked against the start
  // time at adoption, so a failed write cannot make us adopt a stranger.
  (void)SaveRecord(*inst);
  std::vector<Continuation> waiters = std::move(inst->on_down);
  inst->on_down.clear();
  if (waiters.empty()) Notify(*inst);             // died by itself
  for (auto& then : waiters) then(Status::Ok());  // may erase the instance
}

void ProcessProvider::KillThen(Instance& inst, const char* op,
                               Continuation then) {
  if (inst.pidfd < 0 && !inst.preparing) {
    then(Status::Ok());
    return;
  }
  inst.on_down.push_back(std::move(then));
  // Runs when the launch in preparation ends, or when the kill sequence
  // already running ends.
  if (inst.preparing || inst.killing_op != nullptr) return;
  inst.killing_op = op;
  SignalInstance(inst.pidfd, inst.rec.pid, SIGTERM);
  // A stopped process only acts on SIGTERM once continued.
  SignalInstance(inst.pidfd, inst.rec.pid, SIGCONT);
  std::string id = inst.rec.id;
  inst.grace_timer = loop_.RunAfter(config_.terminate_grace,
                                    [this, id] { OnGraceExpired(id); });
}

void ProcessProvider::OnGraceExpired(const std::string& id) {
  Instance* inst = Find(id);
  if (inst == nullptr || inst->pidfd < 0) return;
  inst->grace_timer = EventLoop::kNoTimer;
  SignalInstance(inst->pidfd, inst->rec.pid, SIGKILL);
  inst->kill_timer =
      loop_.RunAfter(config_.kill_timeout, [this, id] { OnKillTimeout(id); });
}

void ProcessProvider::OnKillTimeout(const std::string& id) {
  Instance* inst = Find(id);
  if (inst == nullptr || inst->pidfd < 0) return;
  inst->kill_timer = EventLoop::kNoTimer;
  Status st =
      Unavailable(std::string("process: ") + inst->killing_op + "(" +
                  Describe(*inst) + "): still running " +
                  FormatDuration(config_.kill_timeout) + " after SIGKILL");
  inst->killing_op = nullptr;
  std::vector<Continuation> waiters = std::move(inst->on_down);
  inst->on_down.clear();
  for (auto& then : waiters) then(st);
}

InstanceStatus ProcessProvider::StatusOf(const Instance& inst) const {
  InstanceStatus s;
  s.id = inst.rec.id;
  s.system_check = CheckState::kOk;
  if (inst.preparing) {
    s.lifecycle = Lifecycle::kPending;
    s.instance_check = CheckState::kInitializing;
  } else if (inst.pidfd >= 0) {
    s.lifecycle = inst.stopping ? Lifecycle::kStopping : Lifecycle::kRunning;
    auto stat = process::ReadProcStat(inst.rec.pid);
    bool healthy = stat.ok() && stat->start_time == inst.rec.start_time &&
                   !process::IsImpairedState(stat->state);
    s.instance_check = healthy ? CheckState::kOk : CheckState::kImpaired;
  } else {
    s.lifecycle = Lifecycle::kStopped;
    s.instance_check =
        inst.rec.want_running ? CheckState::kImpaired : CheckState::kUnknown;
  }
  return s;
}

void ProcessProvider::Notify(const Instance& inst) {
  if (!sink_) return;
  loop_.Post([sink = sink_, status = StatusOf(inst)] { sink(status); });
}

void ProcessProvider::ListZones(Done<std::vector<ZoneInfo>> done) {
  std::vector<ZoneInfo> zones;
  for (const auto& z : config_.zones) zones.push_back({z, true});
  Complete(std::move(done), std::move(zones));
}

void ProcessProvider::Launch(const LaunchRequest& req,
                             Done<InstanceInfo> done) {
  auto fail = [this, &done](Status st) {
    Complete(std::move(done), std::move(st));
  };
  std::string op = "process: Launch(group " + req.group + ", token '" +
                   req.idempotency_token + "'): ";
  if (!init_status_.ok()) {
    return fail(FailedPrecondition(op + init_status_.message()));
  }
  if (!process::IsSafeName(req.group)) {
    return fail(
        InvalidArgument(op + "group name must be 1-64 of [A-Za-z0-9._-]"));
  }
  if (req.spec.command.empty()) {
    return fail(InvalidArgument(op + "launch spec has no command"));
  }
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

void ProcessProvider::Restart(const std::string& id, const char* op,
                              bool require_running, DoneStatus done) {
  std::string what = std::string("process: ") + op + "(" + id + "): ";
  Instance* inst = Find(id);
  if (inst == nullptr) {
    return Complete(std::move(done), NotFound(what + "no such instance"));
  }
  if (inst->terminating) {
    return Complete(std::move(done),
                    FailedPrecondition(what + "instance is terminating"));
  }
  if (require_running && !inst->rec.want_running) {
    return Complete(std::move(done),
                    FailedPrecondition(what + "instance is stopped"));
  }
  inst->rec.want_running = true;
  (void)SaveRecord(*inst);  // re-saved with the new pid after the spawn
  KillThen(*inst, op, [this, id, what, done](Status st) {
    Instance* inst = Find(id);
    if (st.ok() && (inst == nullptr || inst->terminating)) {
      st = FailedPrecondition(what + "instance terminated meanwhile");
    }
    if (st.ok() && inst->pidfd < 0) {
      st = SpawnProcess(*inst);
      Notify(*inst);
    }
    Complete(done, st);
  });
}

void ProcessProvider::Reboot(const std::string& instance_id, DoneStatus done) {
  Restart(instance_id, "Reboot", /*require_running=*/true, std::move(done));
}

void ProcessProvider::Recover(const std::string& instance_id, DoneStatus done) {
  Restart(instance_id, "Recover", /*require_running=*/false, std::move(done));
}

void ProcessProvider::Stop(const std::string& id, DoneStatus done) {
  Instance* inst = Find(id);
  std::string what = "process: Stop(" + id + "): ";
  if (inst == nullptr) {
    return Complete(std::move(done), NotFound(what + "no such instance"));
  }
  if (inst->terminating) {
    return Complete(std::move(done),
                    FailedPrecondition(what + "instance is terminating"));
  }
  bool was_wanted = inst->rec.want_running;
  inst->rec.want_running = false;
  if (Status st = SaveRecord(*inst); !st.ok()) {
    return Complete(std::move(done), process::WithContext(st, what));
  }
  if (inst->pidfd >= 0) inst->stopping = true;
  KillThen(*inst, "Stop", [this, id, was_wanted, done](Status st) {
    Instance* inst = Find(id);
    if (inst != nullptr && !inst->terminating) {
      inst->stopping = false;
      if (!st.ok()) {
        inst->rec.want_running = was_wanted;
        (void)SaveRecord(*inst);
      }
      Notify(*inst);
    }
    Complete(done, st);
  });
}

void ProcessProvider::Start(const std::string& id, DoneStatus done) {
  Instance* inst = Find(id);
  std::string what = "process: Start(" + id + "): ";
  if (inst == nullptr) {
    return Complete(std::move(done), NotFound(what + "no such instance"));
  }
  if (inst->terminating) {
    return Complete(std::move(done),
                    FailedPrecondition(what + "instance is terminating"));
  }
  inst->rec.want_running = true;
  (void)SaveRecord(*inst);
  auto spawn = [this, id, what, done](Status st) {
    Instance* inst = Find(id);
    if (st.ok() && (inst == nullptr || inst->terminating)) {
      st = FailedPrecondition(what + "instance terminated meanwhile");
    }
    if (st.ok() && inst->pidfd < 0 && inst->rec.want_running) {
      st = SpawnProcess(*inst);
      Notify(*inst);
    }
    Complete(done, st);
  };
  // Behind a Stop still in progress: start once it is down.
  if (inst->killing_op != nullptr || inst->preparing) {
    return KillThen(*inst, "Start", spawn);
  }
  spawn(Status::Ok());
}

void ProcessProvider::Terminate(const std::string& id, DoneStatus done) {
  Instance* inst = Find(id);
  if (inst == nullptr) return Complete(std::move(done), Status::Ok());
  inst->terminating = true;
  inst->rec.want_running = false;
  (void)SaveRecord(*inst);
  if (inst->pidfd >= 0) inst->stopping = true;
  KillThen(*inst, "Terminate", [this, id, done](Status st) {
    if (st.ok()) FinishTerminate(id);
    Complete(done, st);
  });
}

void ProcessProvider::DescribeStatus(const std::vector<std::string>& ids,
                                     Done<std::vector<InstanceStatus>> done) {
  std::vector<InstanceStatus> out;
  if (ids.empty()) {
    for (const auto& [id, inst] : instances_) out.push_back(StatusOf(*inst));
  }
  for (const auto& id : ids) {
    if (const Instance* inst = Find(id)) {
      out.push_back(StatusOf(*inst));
    } else {
      InstanceStatus gone;
      gone.id = id;
      gone.lifecycle = Lifecycle::kTerminated;
      out.push_back(gone);
    }
  }
  Complete(std::move(done), std::move(out));
}

void ProcessProvider::ListInstances(const std::string& group,
                                    Done<std::vector<InstanceInfo>> done) {
  // Errors reading single records are reported by Adopt()/init_status();
  // the readable instances are still listed.
  (void)Adopt();
  std::vector<InstanceInfo> out;
  for (const auto& [id, inst] : instances_) {
    if (group.empty() || inst->rec.group == group) {
      out.push_back(InfoOf(*inst));
    }
  }
  Complete(std::move(done), std::move(out));
}

std::string ProcessProvider::DataDir(const std::string& id) const {
  const Instance* inst = Find(id);
  return inst == nullptr ? "" : inst->rec.data_dir;
}

std::string ProcessProvider::LogDir(const std::string& id) const {
  return Find(id) == nullptr ? "" : state_.LogDir(id);
}

int ProcessProvider::Pid(const std::string& id) const {
  const Instance* inst = Find(id);
  return inst == nullptr || inst->pidfd < 0 ? 0 : inst->rec.pid;
}

}  // namespace lifeline
