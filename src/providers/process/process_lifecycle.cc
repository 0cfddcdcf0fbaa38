// ProcessProvider: the SIGTERM / grace / SIGKILL sequence and the
// operations built on it (Terminate, Stop, Start, Reboot, Recover). See
// process_provider.h.
#include <signal.h>

#include "providers/process/instance_state.h"
#include "providers/process/process_provider.h"
#include "providers/process/process_util.h"

namespace lifeline {

namespace {

// Signals the instance: its leader through the pidfd (immune to pid reuse)
// and, once that succeeded, the rest of its process group (setsid made the
// leader's pid the group id).
void SignalInstance(int pidfd, int pid, int sig) {
  if (process::PidfdSignal(pidfd, sig).ok()) kill(-pid, sig);
}

}  // namespace

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
  // Re-saved with the new pid after the spawn; written now only if this
  // changes it (a restart after a crash does not: no fsync before it).
  if (!inst->rec.want_running) {
    inst->rec.want_running = true;
    (void)SaveRecord(*inst);
  }
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
  if (!inst->rec.want_running) {  // else the record says so already
    inst->rec.want_running = true;
    (void)SaveRecord(*inst);
  }
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

}  // namespace lifeline
