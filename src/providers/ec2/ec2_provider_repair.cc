// Ec2Provider's multi-step operations: recover (stop + start), volume
// snapshots, volume attach/detach and address moves. Each waits for the
// state it needs through WaitUntil (timers on the loop, never sleeps).
#include "providers/ec2/ec2_provider.h"

namespace lifeline::ec2 {

void Ec2Provider::Recover(const std::string& id, DoneStatus done) {
  if (!init_status_.ok()) return PostStatus(std::move(done), init_status_);
  const std::string label = "Recover(" + id + ")";
  std::weak_ptr<Ec2Provider*> weak = self_;
  DescribeInstance(
      id, "DescribeInstances(" + id + ")",
      [this, weak, id, label,
       done = std::move(done)](Result<Ec2Instance> r) mutable {
        if (!weak.lock()) return;
        if (!r.ok()) return done(r.status().Annotate(label));
        if (r->info.lifecycle == Lifecycle::kTerminated) {
          return done(FailedPrecondition("ec2: " + label + ": instance is " +
                                         r->state_name +
                                         "; replace it instead"));
        }
        if (r->root_device_type != "ebs") {
          return done(FailedPrecondition(
              "ec2: " + label + ": root device is " +
              (r->root_device_type.empty() ? "unknown" : r->root_device_type) +
              ", not EBS; a stop would lose it, so replace it instead"));
        }
        auto start = [this, weak, id, label,
                      done = std::move(done)](Status stopped) mutable {
          if (!weak.lock()) return;
          if (!stopped.ok()) return done(stopped.Annotate(label));
          InstanceAction("StartInstances", id, false, std::move(done));
        };
        // Waiting for "stopped" is what moves the instance off its host.
        auto wait_stopped = [this, weak, id, label](DoneStatus then) {
          WaitUntil(
              "ec2: " + label + ": waiting for stopped",
              [this, weak, id](std::function<void(Result<bool>)> reached) {
                if (!weak.lock()) return;
                DescribeInstance(
                    id, "DescribeInstances(" + id + ")",
                    [reached = std::move(reached)](Result<Ec2Instance> r) {
                      if (!r.ok()) return reached(r.status());
                      if (r->info.lifecycle == Lifecycle::kTerminated) {
                        return reached(FailedPrecondition(
                            "instance was terminated while stopping"));
                      }
                      reached(r->info.lifecycle == Lifecycle::kStopped);
                    });
              },
              std::move(then));
        };
        if (r->info.lifecycle == Lifecycle::kStopped)
          return start(Status::Ok());
        if (r->info.lifecycle == Lifecycle::kStopping) {
          return wait_stopped(std::move(start));
        }
        InstanceAction(
            "StopInstances", id, false,
            [wait_stopped, start = std::move(start)](Status s) mutable {
              if (!s.ok()) return start(s);
              wait_stopped(std::move(start));
            });
      });
}

void Ec2Provider::SnapshotVolumes(const std::string& id,
                                  Done<std::vector<Snapshot>> done) {
  if (!init_status_.ok()) return PostResult(std::move(done), {init_status_});
  Ec2Query q("DescribeVolumes");
  q.AddFilter("attachment.instance-id", {id});
  auto volumes = std::make_shared<std::vector<Ec2Volume>>();
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.CallPaged(
      std::move(q), "DescribeVolumes(" + id + ")", ForInstance(id),
      [volumes](const Ec2Response& page) {
        for (Ec2Volume& v : ParseVolumes(page.root())) {
          volumes->push_back(std::move(v));
        }
      },
      [this, weak, id, volumes, done = std::move(done)](Status s) mutable {
        if (!weak.lock()) return;
        if (!s.ok()) return done(s);
        CreateSnapshots(id, std::move(*volumes), 0,
                        std::make_shared<std::vector<Snapshot>>(),
                        std::move(done));
      });
}

void Ec2Provider::CreateSnapshots(std::string instance_id,
                                  std::vector<Ec2Volume> volumes, size_t next,
                                  std::shared_ptr<std::vector<Snapshot>> out,
                                  Done<std::vector<Snapshot>> done) {
  std::weak_ptr<Ec2Provider*> weak = self_;
  if (next < volumes.size()) {
    const Ec2Volume& v = volumes[next];
    Ec2Query q("CreateSnapshot");
    q.Set("VolumeId", v.id);
    q.Set("Description", "lifeline: " + instance_id + " " + v.device);
    q.Set("TagSpecification.1.ResourceType", "snapshot");
    q.Set("TagSpecification.1.Tag.1.Key", "lifeline:instance");
    q.Set("TagSpecification.1.Tag.1.Value", instance_id);
    q.Set("TagSpecification.1.Tag.2.Key", "lifeline:device");
    q.Set("TagSpecification.1.Tag.2.Value", v.device);
    CallOptions o;
    o.idempotent = false;  // a repeat after a lost reply makes a second one
    client_.Call(std::move(q),
                 "CreateSnapshot(" + v.id + " of " + instance_id + ")", o,
                 [this, weak, instance_id, volumes, next, out,
                  done = std::move(done)](Result<Ec2Response> r) mutable {
                   if (!weak.lock()) return;
                   if (!r.ok()) return done(r.status());
                   Snapshot s;
                   s.id = Text(r->root(), "snapshotId");
                   s.volume_id = volumes[next].id;
                   s.device = volumes[next].device;
                   out->push_back(std::move(s));
                   CreateSnapshots(std::move(instance_id), std::move(volumes),
                                   next + 1, out, std::move(done));
                 });
    return;
  }
  if (out->empty()) return done(std::vector<Snapshot>{});
  std::vector<std::string> ids;
  for (const Snapshot& s : *out) ids.push_back(s.id);
  const std::string label = "SnapshotVolumes(" + instance_id + ")";
  WaitUntil(
      "ec2: " + label + ": waiting for snapshots to complete",
      [this, weak, ids, out, label](std::function<void(Result<bool>)> reached) {
        if (!weak.lock()) return;
        Ec2Query q("DescribeSnapshots");
        q.SetList("SnapshotId", ids);
        client_.Call(
            std::move(q), "DescribeSnapshots(" + ids.front() + "...)", {},
            [out, label, reached = std::move(reached)](Result<Ec2Response> r) {
              if (!r.ok()) return reached(r.status());
              bool all = true;
              for (const Ec2Snapshot& s : ParseSnapshots(r->root())) {
                if (s.state == "error") {
                  return reached(Unavailable("ec2: " + label + ": snapshot " +
                                             s.id + " of " + s.volume_id +
                                             " failed (state error)"));
                }
                for (Snapshot& mine : *out) {
                  if (mine.id == s.id) mine.complete = s.state == "completed";
                }
              }
              for (const Snapshot& mine : *out) all = all && mine.complete;
              reached(all);
            });
      },
      [out, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(*out);
      });
}

void Ec2Provider::AttachVolume(const std::string& volume_id,
                               const std::string& instance_id,
                               const std::string& device, DoneStatus done) {
  if (!init_status_.ok()) return PostStatus(std::move(done), init_status_);
  Ec2Query q("AttachVolume");
  q.Set("VolumeId", volume_id).Set("InstanceId", instance_id);
  q.Set("Device", device);
  const std::string label = "AttachVolume(" + volume_id + " to " + instance_id +
                            " as " + device + ")";
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.Call(
      std::move(q), label, ForInstance(instance_id),
      [this, weak, volume_id, instance_id, label,
       done = std::move(done)](Result<Ec2Response> r) mutable {
        if (!weak.lock()) return;
        if (!r.ok()) return done(r.status());
        WaitUntil(
            "ec2: " + label + ": waiting for attached",
            [this, weak, volume_id,
             instance_id](std::function<void(Result<bool>)> reached) {
              if (!weak.lock()) return;
              Ec2Query q("DescribeVolumes");
              q.Set("VolumeId.1", volume_id);
              client_.Call(
                  std::move(q), "DescribeVolumes(" + volume_id + ")", {},
                  [instance_id,
                   reached = std::move(reached)](Result<Ec2Response> r) {
                    if (!r.ok()) return reached(r.status());
                    auto vs = ParseVolumes(r->root());
                    reached(!vs.empty() && vs[0].instance_id == instance_id &&
                            vs[0].attach_state == "attached");
                  });
            },
            std::move(done));
      });
}

void Ec2Provider::DetachVolume(const std::string& volume_id, DoneStatus done) {
  if (!init_status_.ok()) return PostStatus(std::move(done), init_status_);
  const std::string label = "DetachVolume(" + volume_id + ")";
  std::weak_ptr<Ec2Provider*> weak = self_;
  auto available = [this, weak,
                    volume_id](std::function<void(Result<bool>)> reached) {
    if (!weak.lock()) return;
    Ec2Query q("DescribeVolumes");
    q.Set("VolumeId.1", volume_id);
    client_.Call(std::move(q), "DescribeVolumes(" + volume_id + ")", {},
                 [reached = std::move(reached)](Result<Ec2Response> r) {
                   if (!r.ok()) return reached(r.status());
                   auto vs = ParseVolumes(r->root());
                   reached(!vs.empty() && vs[0].state == "available");
                 });
  };
  // Look first: detaching a volume that is already free is a no-op, and
  // the attachment names the instance to detach from.
  Ec2Query q("DescribeVolumes");
  q.Set("VolumeId.1", volume_id);
  client_.Call(
      std::move(q), "DescribeVolumes(" + volume_id + ")", {},
      [this, weak, volume_id, label, available,
       done = std::move(done)](Result<Ec2Response> r) mutable {
        if (!weak.lock()) return;
        if (!r.ok()) return done(r.status().Annotate(label));
        std::vector<Ec2Volume> vs = ParseVolumes(r->root());
        if (vs.empty()) {
          return done(NotFound("ec2: " + label + ": request " + r->request_id +
                               " lists no such volume"));
        }
        if (vs[0].state == "available") return done(Status::Ok());
        Ec2Query d("DetachVolume");
        d.Set("VolumeId", volume_id);
        if (!vs[0].instance_id.empty()) d.Set("InstanceId", vs[0].instance_id);
        if (!vs[0].device.empty()) d.Set("Device", vs[0].device);
        auto code = std::make_shared<std::string>();
        client_.Call(
            std::move(d), label, {},
            [this, weak, label, available, code,
             done = std::move(done)](Result<Ec2Response> r) mutable {
              if (!weak.lock()) return;
              // IncorrectState: detached meanwhile; the wait tells.
              if (!r.ok() && *code != "IncorrectState") return done(r.status());
              WaitUntil("ec2: " + label + ": waiting for available", available,
                        std::move(done));
            },
            [code](const CallError& e) { *code = e.code; });
      });
}

void Ec2Provider::MoveAddress(const std::string& address,
                              const std::string& to_instance_id,
                              DoneStatus done) {
  if (!init_status_.ok()) return PostStatus(std::move(done), init_status_);
  Ec2Query q("DescribeAddresses");
  bool by_allocation = address.rfind("eipalloc-", 0) == 0;
  q.Set(by_allocation ? "AllocationId.1" : "PublicIp.1", address);
  const std::string label =
      "MoveAddress(" + address + " to " +
      (to_instance_id.empty() ? "nobody" : to_instance_id) + ")";
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.Call(
      std::move(q), "DescribeAddresses(" + address + ")", {},
      [this, weak, address, to_instance_id, label,
       done = std::move(done)](Result<Ec2Response> r) mutable {
        if (!weak.lock()) return;
        if (!r.ok()) return done(r.status().Annotate(label));
        std::vector<Ec2Address> found = ParseAddresses(r->root());
        if (found.empty()) {
          return done(NotFound("ec2: " + label + ": request " + r->request_id +
                               " lists no address " + address));
        }
        const Ec2Address& a = found.front();
        if (a.instance_id == to_instance_id) return done(Status::Ok());
        if (to_instance_id.empty()) {
          Ec2Query d("DisassociateAddress");
          if (!a.association_id.empty()) {
            d.Set("AssociationId", a.association_id);
          } else {
            d.Set("PublicIp", a.public_ip);
          }
          client_.Call(std::move(d), "DisassociateAddress(" + address + ")", {},
                       [done = std::move(done)](Result<Ec2Response> r) {
                         done(r.status());
                       });
          return;
        }
        Ec2Query assoc("AssociateAddress");
        if (!a.allocation_id.empty()) {
          assoc.Set("AllocationId", a.allocation_id);
        } else {
          assoc.Set("PublicIp", a.public_ip);
        }
        assoc.Set("InstanceId", to_instance_id);
        // Takes the address from its current holder in one step, so the
        // old instance is fenced off it the moment the new one gets it.
        assoc.Set("AllowReassociation", "true");
        client_.Call(
            std::move(assoc),
            "AssociateAddress(" + address + " to " + to_instance_id + ")",
            ForInstance(to_instance_id),
            [done = std::move(done)](Result<Ec2Response> r) {
              done(r.status());
            });
      });
}

}  // namespace lifeline::ec2
