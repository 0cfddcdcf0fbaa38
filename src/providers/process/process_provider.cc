#include "providers/process/process_provider.h"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "providers/process/instance_state.h"
#include "providers/process/process_util.h"

namespace lifeline {

namespace fs = std::filesystem;
using process::InstanceRecord;

namespace {
// How long the record of an exited process may wait to be written (see
// SaveRecordSoon): longer than a controller takes to restart it.
constexpr Duration kRecordFlushDelay = std::chrono::milliseconds(250);
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
  usable_ = true;
  init_status_ = Adopt();
  ScheduleLogCheck();
}

ProcessProvider::~ProcessProvider() {
  FlushRecords();
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
  unsaved_.erase(inst.rec.id);  // this write carries the newer state too
  return state_.SaveRecord(inst.rec);
}

void ProcessProvider::SaveRecordSoon(const Instance& inst) {
  unsaved_.insert(inst.rec.id);
  if (flush_timer_ != EventLoop::kNoTimer) return;
  flush_timer_ = loop_.RunAfter(kRecordFlushDelay, [this] {
    flush_timer_ = EventLoop::kNoTimer;
    FlushRecords();
  });
}

void ProcessProvider::FlushRecords() {
  loop_.Cancel(flush_timer_);
  flush_timer_ = EventLoop::kNoTimer;
  std::set<std::string> ids;
  ids.swap(unsaved_);
  for (const std::string& id : ids) {
    // Best effort, as for the synchronous write it replaces; an instance
    // forgotten meanwhile has had its record removed.
    if (const Instance* inst = Find(id)) (void)state_.SaveRecord(inst->rec);
  }
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
          Status watched = Watch(*inst, *fd);  // closes fd on failure
          adopted = watched.ok();
          if (adopted) WatchLogs(r.id);
          if (!adopted) {
            errors.push_back(watched);
            why = "runs but could not be watched";
          }
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
  // Written before anything else, so that a daemon crash right after the
  // spawn leaves as short a window as possible without the new pid.
  Status saved = SaveRecord(inst);
  WatchLogs(r.id);
  return process::WithContext(saved, op);
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
  std::vector<Continuation> waiters = std::move(inst->on_down);
  inst->on_down.clear();
  if (waiters.empty()) Notify(*inst);  // died by itself
  // Written a little later, off the path of the restart that usually
  // follows (which writes the record itself, with the new pid, and so
  // makes this write unnecessary). Best effort, and a lost write is
  // harmless: a stale pid in the record is re-checked against the start
  // time at adoption, so it cannot make us adopt a stranger.
  SaveRecordSoon(*inst);
  for (auto& then : waiters) then(Status::Ok());  // may erase the instance
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
