// ProcessProvider: volumes (data dirs), snapshots, addresses, instance
// descriptions and log rotation. Processes and lifecycle operations are in
// process_provider.cc.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "providers/process/instance_state.h"
#include "providers/process/process_provider.h"

namespace lifeline {

namespace fs = std::filesystem;
using process::SnapshotRecord;
using process::VolumeRecord;

namespace process {

bool IsSafeName(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string DeviceName(const std::string& device) {
  size_t slash = device.rfind('/');
  return slash == std::string::npos ? device : device.substr(slash + 1);
}

Status CheckVolumes(const LaunchRequest& req, const std::string& op) {
  bool root_declared = false;
  std::set<std::string> devices;
  for (size_t i = 0; i < req.spec.volumes.size(); ++i) {
    const VolumeSpec& v = req.spec.volumes[i];
    std::string at = "launch.volumes[" + std::to_string(i) + "]";
    std::string dev = DeviceName(v.device);
    bool root = dev == kRootDevice;
    bool fresh =
        root ? !std::exchange(root_declared, true) : devices.insert(dev).second;
    if (!IsSafeName(dev) || !fresh) {
      return InvalidArgument(op + at + ".device '" + v.device +
                             "' is invalid or repeated");
    }
    if (root && v.detachable) {
      return InvalidArgument(
          op + at +
          ".detachable: device 'data' is the instance's data dir (its "
          "working directory), which cannot be detached");
    }
  }
  for (const auto& [device, snap] : req.volume_snapshots) {
    std::string dev = DeviceName(device);
    if (dev != kRootDevice && !devices.count(dev)) {
      return InvalidArgument(op + "volume_snapshots names device '" + device +
                             "', which the launch has no volume for");
    }
  }
  return Status::Ok();
}

}  // namespace process

namespace {

// Points attach/<instance>/<device> at the volume's directory.
Status Link(const std::string& target, const std::string& link) {
  std::error_code ec;
  fs::create_directories(fs::path(link).parent_path(), ec);
  fs::remove(link, ec);
  fs::create_directory_symlink(target, link, ec);
  if (ec) return Internal("process: link " + link + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

std::vector<Volume> ProcessProvider::VolumesOf(const Instance& inst) const {
  std::vector<Volume> out;
  out.push_back({process::RootVolumeId(inst.rec.id), process::kRootDevice,
                 /*detachable=*/false});
  for (const auto& [id, v] : volumes_) {
    if (v.instance_id == inst.rec.id)
      out.push_back({id, v.device, v.detachable});
  }
  return out;
}

InstanceInfo ProcessProvider::InfoOf(const Instance& inst) const {
  InstanceStatus s = StatusOf(inst);
  InstanceInfo info;
  info.id = inst.rec.id;
  info.group = inst.rec.group;
  info.zone = inst.rec.zone;
  info.host = "local";
  info.lifecycle = s.lifecycle;
  info.system_check = s.system_check;
  info.instance_check = s.instance_check;
  info.volumes = VolumesOf(inst);
  for (const auto& [address, holder] : addresses_) {
    if (holder == inst.rec.id) info.addresses.push_back(address);
  }
  info.tags = inst.rec.spec.tags;
  info.tags[std::string(kGroupTag)] = inst.rec.group;
  if (!inst.rec.token.empty()) {
    info.tags[std::string(kTokenTag)] = inst.rec.token;
  }
  info.launch_token = inst.rec.token;
  info.launch_time = inst.rec.launch_time;
  return info;
}

Result<SnapshotRecord> ProcessProvider::UsableSnapshot(
    const std::string& op, const std::string& snap_id) {
  auto snap = state_.LoadSnapshot(snap_id);
  if (!snap.ok()) return process::WithContext(snap.status(), op);
  if (!snap->complete) {
    return FailedPrecondition(op + "snapshot " + snap_id + " is incomplete");
  }
  return snap;
}

Status ProcessProvider::PrepareVolumes(const LaunchRequest& req, Instance& inst,
                                       CopyJobs* copies) {
  const std::string& id = inst.rec.id;
  std::string op = "process: Launch(" + id + "): ";
  // Extra volumes by device (Launch has run CheckVolumes). A spec entry for
  // the root data dir only gives the data dir its properties
  // (snapshot_on_replace, read by the controller): it is no extra volume.
  std::map<std::string, const VolumeSpec*> devices;
  for (const auto& v : req.spec.volumes) {
    std::string dev = process::DeviceName(v.device);
    if (dev != process::kRootDevice) devices[dev] = &v;
  }
  // Creates `dir` empty, or queues a copy of the snapshot given for
  // `device` into it.
  auto create = [&](const std::string& device, const std::string& dir) {
    for (const auto& [d, snap_id] : req.volume_snapshots) {
      if (process::DeviceName(d) != device) continue;
      auto snap = UsableSnapshot(op, snap_id);
      if (!snap.ok()) return snap.status();
      copies->emplace_back(state_.SnapshotDir(snap_id), dir);
      return Status::Ok();
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Internal(op + "create " + dir + ": " + ec.message());
    return Status::Ok();
  };
  LIFELINE_RETURN_IF_ERROR(create(process::kRootDevice, inst.rec.data_dir));
  std::error_code ec;
  fs::create_directories(state_.AttachDir(id), ec);
  for (const auto& [device, spec] : devices) {
    VolumeRecord v{"vol-" + id + "-" + device, device, id, spec->detachable};
    LIFELINE_RETURN_IF_ERROR(create(device, state_.VolumeDir(v.id)));
    LIFELINE_RETURN_IF_ERROR(
        Link(state_.VolumeDir(v.id), state_.AttachDir(id) + "/" + device));
    volumes_[v.id] = v;
  }
  return state_.SaveVolumes(volumes_);
}

void ProcessProvider::AbandonLaunch(const std::string& id,
                                    const std::string& token, bool keep_token) {
  std::error_code ec;
  for (auto it = volumes_.begin(); it != volumes_.end();) {
    if (it->second.instance_id == id) {
      fs::remove_all(state_.VolumeDir(it->first), ec);
      it = volumes_.erase(it);
    } else {
      ++it;
    }
  }
  // Best effort: what remains is unreferenced and harmless.
  (void)state_.SaveVolumes(volumes_);
  fs::remove_all(state_.DataDir(id), ec);
  fs::remove_all(state_.AttachDir(id), ec);
  if (!token.empty() && !keep_token) (void)state_.RemoveToken(token);
  (void)state_.RemoveRecord(id);
}

void ProcessProvider::FinishTerminate(const std::string& id) {
  Instance* inst = Find(id);
  if (inst == nullptr) return;
  std::error_code ec;
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    it = it->second == id ? addresses_.erase(it) : std::next(it);
  }
  (void)state_.SaveAddresses(addresses_);
  for (auto it = volumes_.begin(); it != volumes_.end();) {
    VolumeRecord& v = it->second;
    if (v.instance_id != id) {
      ++it;
    } else if (v.detachable || config_.keep_data_on_terminate) {
      v.instance_id.clear();  // survives, detached
      ++it;
    } else {
      fs::remove_all(state_.VolumeDir(v.id), ec);
      it = volumes_.erase(it);
    }
  }
  (void)state_.SaveVolumes(volumes_);
  fs::remove_all(state_.AttachDir(id), ec);
  if (!config_.keep_data_on_terminate) fs::remove_all(inst->rec.data_dir, ec);
  (void)state_.RemoveRecord(id);
  unsaved_.erase(id);
  ForgetLogs(id);
  if (sink_) {
    InstanceStatus gone;
    gone.id = id;
    gone.lifecycle = Lifecycle::kTerminated;
    loop_.Post([sink = sink_, gone] { sink(gone); });
  }
  instances_.erase(id);
}

void ProcessProvider::SnapshotVolumes(const std::string& id,
                                      Done<std::vector<Snapshot>> done) {
  std::string op = "process: SnapshotVolumes(" + id + "): ";
  const Instance* inst = Find(id);
  if (inst == nullptr) {
    return Complete(std::move(done), NotFound(op + "no such instance"));
  }
  if (inst->preparing) {
    return Complete(std::move(done),
                    Unavailable(op + "instance is still being launched"));
  }
  // Records first (incomplete), then the copies off the loop, then the
  // records again, complete: an incomplete snapshot is never restored.
  std::vector<SnapshotRecord> snaps;
  CopyJobs copies;
  for (const Volume& v : VolumesOf(*inst)) {
    auto n = state_.Next("snapshot");
    SnapshotRecord s;
    if (n.ok()) s = {"snap-" + std::to_string(*n), v.id, v.device, id, false};
    Status st = n.ok() ? state_.SaveSnapshot(s) : n.status();
    if (!st.ok()) {
      return Complete(std::move(done), process::WithContext(st, op));
    }
    std::string dir = v.device == process::kRootDevice ? inst->rec.data_dir
                                                       : state_.VolumeDir(v.id);
    copies.emplace_back(dir, state_.SnapshotDir(s.id));
    snaps.push_back(s);
  }
  RunCopies(std::move(copies), [this, snaps, op, done](Status st) mutable {
    std::vector<Snapshot> out;
    for (SnapshotRecord& s : snaps) {
      if (!st.ok()) break;
      s.complete = true;
      st = state_.SaveSnapshot(s);
      out.push_back({s.id, s.volume_id, s.device, true});
    }
    if (!st.ok()) {
      return Complete(std::move(done), process::WithContext(st, op));
    }
    Complete(std::move(done), std::move(out));
  });
}

void ProcessProvider::AttachVolume(const std::string& volume_id,
                                   const std::string& instance_id,
                                   const std::string& device, DoneStatus done) {
  std::string op = "process: AttachVolume(" + volume_id + ", " + instance_id +
                   ", " + device + "): ";
  auto fail = [&](Status st) { Complete(std::move(done), std::move(st)); };
  auto it = volumes_.find(volume_id);
  if (it == volumes_.end()) {
    if (volume_id == process::RootVolumeId(instance_id) &&
        Find(instance_id) != nullptr) {
      return Complete(std::move(done), Status::Ok());  // always attached
    }
    return fail(NotFound(op + "no such detachable volume"));
  }
  const Instance* inst = Find(instance_id);
  if (inst == nullptr) return fail(NotFound(op + "no such instance"));
  if (inst->terminating) {
    return fail(FailedPrecondition(op + "instance is terminating"));
  }
  std::string dev = process::DeviceName(device);
  if (!process::IsSafeName(dev) || dev == process::kRootDevice) {
    return fail(InvalidArgument(op + "device name is invalid or reserved"));
  }
  VolumeRecord& v = it->second;
  if (v.instance_id == instance_id && v.device == dev) {
    return Complete(std::move(done), Status::Ok());
  }
  if (!v.instance_id.empty()) {
    return fail(FailedPrecondition(op + "volume is attached to " +
                                   v.instance_id + "; detach it first"));
  }
  for (const auto& [other_id, other] : volumes_) {
    if (other.instance_id == instance_id && other.device == dev) {
      return fail(FailedPrecondition(op + "device is in use by " + other_id));
    }
  }
  Status st = Link(state_.VolumeDir(volume_id),
                   state_.AttachDir(instance_id) + "/" + dev);
  if (st.ok()) {
    v.instance_id = instance_id;
    v.device = dev;
    st = state_.SaveVolumes(volumes_);
  }
  Complete(std::move(done), process::WithContext(st, op));
}

void ProcessProvider::DetachVolume(const std::string& volume_id,
                                   DoneStatus done) {
  std::string op = "process: DetachVolume(" + volume_id + "): ";
  auto it = volumes_.find(volume_id);
  if (it == volumes_.end()) {
    Status st = NotFound(op + "no such volume");
    if (volume_id.rfind("vol-", 0) == 0 && Find(volume_id.substr(4))) {
      st = FailedPrecondition(op + "an instance's data dir cannot be detached");
    }
    return Complete(std::move(done), st);
  }
  VolumeRecord& v = it->second;
  if (v.instance_id.empty()) return Complete(std::move(done), Status::Ok());
  std::error_code ec;
  fs::remove(state_.AttachDir(v.instance_id) + "/" + v.device, ec);
  v.instance_id.clear();
  Complete(std::move(done),
           process::WithContext(state_.SaveVolumes(volumes_), op));
}

void ProcessProvider::MoveAddress(const std::string& address,
                                  const std::string& to_instance_id,
                                  DoneStatus done) {
  std::string op =
      "process: MoveAddress(" + address + " -> " + to_instance_id + "): ";
  const Instance* inst = Find(to_instance_id);
  Status st;
  if (address.empty()) {
    st = InvalidArgument(op + "empty address");
  } else if (inst == nullptr) {
    st = NotFound(op + "no such instance");
  } else if (inst->terminating) {
    st = FailedPrecondition(op + "instance is terminating");
  } else {
    addresses_[address] = to_instance_id;
    st = process::WithContext(state_.SaveAddresses(addresses_), op);
  }
  Complete(std::move(done), st);
}

Status ProcessProvider::RotateLogsIn(const std::vector<std::string>& paths) {
  Status first;
  for (const std::string& path : paths) {
    bool rotated = false;
    Status st = process::RotateLogIfLarge(path, config_.log_rotation, &rotated);
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

Status ProcessProvider::RotateLogs() {
  std::vector<std::string> paths;
  for (const auto& [id, inst] : instances_) {
    for (const char* name : {"/stdout.log", "/stderr.log"}) {
      paths.push_back(state_.LogDir(id) + name);
    }
  }
  return RotateLogsIn(paths);
}

void ProcessProvider::WatchLogs(const std::string& id) {
  for (const char* name : {"/stdout.log", "/stderr.log"}) {
    log_watch_.Add(state_.LogDir(id) + name);
  }
}

void ProcessProvider::ForgetLogs(const std::string& id) {
  for (const char* name : {"/stdout.log", "/stderr.log"}) {
    log_watch_.Remove(state_.LogDir(id) + name);
  }
}

void ProcessProvider::ScheduleLogCheck() {
  if (config_.log_check_interval <= Duration::zero()) return;
  log_timer_ = loop_.RunAfter(config_.log_check_interval, [this] {
    // Only the files written to since the last check can have crossed the
    // limit (idle instances cost nothing). A failure here repeats when the
    // file is next written; the instance keeps running meanwhile.
    (void)RotateLogsIn(log_watch_.TakeChanged());
    ScheduleLogCheck();
  });
}

}  // namespace lifeline
