// Daemon::Observer: the controller's InstanceObserver that keeps the
// heartbeat service's tracked set equal to the instances of groups with
// application checks. Internal to src/daemon.
#pragma once

#include "daemon/daemon.h"

namespace lifeline {

// Tells the heartbeat service which instances to watch: every instance of
// a group that checks application health, from adoption or launch until it
// leaves Lifeline's view. Runs on the loop thread.
class Daemon::Observer final : public InstanceObserver {
 public:
  Observer(heartbeat::HeartbeatService& service, DaemonLog& log)
      : service_(service), log_(log) {}

  void OnInstanceAdded(const InstanceRecord& rec,
                       const GroupSpec& spec) override {
    if (!spec.check_application) return;
    Status s = service_.Track(rec.info.id, spec.name, spec.grace_period);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      log_.Warn("heartbeat: cannot track instance",
                {{"instance", rec.info.id}, {"error", s.ToString()}});
    }
  }
  void OnInstanceRemoved(const std::string& instance_id) override {
    (void)service_.Untrack(instance_id);
  }
  // A fresh record: the grace period again, and the restarted process's
  // sequence numbers accepted from the start.
  void OnInstanceRestarted(const InstanceRecord& rec,
                           const GroupSpec& spec) override {
    (void)service_.Untrack(rec.info.id);
    OnInstanceAdded(rec, spec);
  }

 private:
  heartbeat::HeartbeatService& service_;
  DaemonLog& log_;
};

}  // namespace lifeline
