// ProcessProvider: the embedded default Provider, in which an instance is a
// real local process (docs/process-provider.md).
//
// An instance is the group's LaunchSpec command run in its own session
// (setsid) with stdin from /dev/null, stdout/stderr appended to per-instance
// log files, a per-instance working directory as its data dir (its root
// volume, device "data") and LIFELINE_* variables in its environment. Every
// other LaunchSpec volume is an extra directory; a spec volume with device
// "data" declares the root volume's properties instead (snapshot_on_replace;
// it cannot be detachable). Zones are labels.
// Instances do not depend on the daemon: they keep running while it is
// down, and a new ProcessProvider on the same state dir re-adopts them,
// matching pid AND process start time so that a reused pid is never taken
// for the instance.
//
// Exit is detected at once through a pidfd watched on the EventLoop and
// pushed to the status sink (lifecycle stopped, instance check impaired).
// A stopped (SIGSTOP) or zombie process is reported impaired by
// DescribeStatus, read from /proc. Terminate, Stop, Reboot and Recover send
// SIGTERM (+SIGCONT) to the process group, wait `terminate_grace` on a loop
// timer, then SIGKILL. Data dir copies (snapshots, launches from
// snapshots) run on worker threads; the loop itself does only short file
// I/O (records, log rotation).
//
// Thread-safety: not thread-safe; every method, and construction and
// destruction, on the loop thread (or before the loop runs). Completion
// callbacks and sink calls are posted to the loop, never run inside the
// call. Destruction leaves instance processes running (that is the point)
// and drops pending completions.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "provider/provider.h"
#include "providers/process/log_rotation.h"
#include "providers/process/log_watcher.h"
#include "providers/process/state_dir.h"

namespace lifeline {

struct ProcessProviderConfig {
  // Instance records, tokens, data dirs, volumes, snapshots and logs.
  std::string state_dir;
  // Zone labels offered by ListZones; a launch names one of them (or none:
  // the zone with the fewest instances of the group is chosen).
  std::vector<std::string> zones = {"zone-a", "zone-b", "zone-c"};
  // Handed to every instance as LIFELINE_HEARTBEAT_ADDR, _KEY_FILE,
  // _KEY_ID and _INTERVAL (FormatDuration form, e.g. "200ms"). Omitted when
  // addr is empty.
  struct Heartbeat {
    std::string addr;  // "127.0.0.1:7070"
    std::string key_file;
    std::string key_id;  // decimal, as heartbeat::KeyRing numbers keys
    Duration interval = milliseconds(200);
    // Heartbeat keys belong to groups: a group listed here gets its own
    // key file and id instead of the two above.
    struct GroupKey {
      std::string key_file;
      std::string key_id;
    };
    std::map<std::string, GroupKey> group_keys;
  } heartbeat;
  // SIGTERM -> SIGKILL delay for Terminate/Stop/Reboot/Recover.
  Duration terminate_grace = seconds(10);
  // How long a process may survive SIGKILL (uninterruptible sleep) before
  // the operation fails with Unavailable.
  Duration kill_timeout = seconds(5);
  // Output rotation, checked every log_check_interval for the log files
  // written to since the last check (inotify; every file where inotify
  // cannot watch it).
  process::LogRotation log_rotation;
  Duration log_check_interval = seconds(1);
  // Terminate removes the data dir and non-detachable volumes unless set.
  bool keep_data_on_terminate = false;
  // PATH given to instances whose LaunchSpec env sets none.
  std::string default_path = "/usr/local/bin:/usr/bin:/bin";
};

class ProcessProvider final : public Provider {
 public:
  // Creates the state dir if needed and re-adopts the instances recorded in
  // it (Adopt()). Check init_status() before use.
  ProcessProvider(EventLoop& loop, const Clock& clock,
                  ProcessProviderConfig config);
  ~ProcessProvider() override;
  ProcessProvider(const ProcessProvider&) = delete;
  ProcessProvider& operator=(const ProcessProvider&) = delete;

  // Not OK when the state dir could not be created (every Launch then
  // fails with FailedPrecondition), or some record could not be read (those
  // instances are then unknown; the rest work).
  const Status& init_status() const { return init_status_; }

  // Loads records not yet known and re-adopts their processes: a record
  // whose pid runs with the recorded start time is watched again; any other
  // is marked not running (pid cleared, never signalled) and, if it should
  // be running, reported stopped/impaired through the sink. Idempotent.
  // Returns the first error met reading records; readable ones still load.
  Status Adopt();

  // Rotates every instance's logs that exceed the size limit now (also done
  // every log_check_interval).
  Status RotateLogs();

  // The instance's data dir, log dir, or "" for an unknown id.
  std::string DataDir(const std::string& instance_id) const;
  std::string LogDir(const std::string& instance_id) const;
  // Pid of the instance's live process, or 0.
  int Pid(const std::string& instance_id) const;

  std::string_view name() const override { return "process"; }
  void ListZones(Done<std::vector<ZoneInfo>> done) override;
  void Launch(const LaunchRequest& request, Done<InstanceInfo> done) override;
  void Terminate(const std::string& instance_id, DoneStatus done) override;
  void Reboot(const std::string& instance_id, DoneStatus done) override;
  void Stop(const std::string& instance_id, DoneStatus done) override;
  void Start(const std::string& instance_id, DoneStatus done) override;
  void Recover(const std::string& instance_id, DoneStatus done) override;
  void DescribeStatus(const std::vector<std::string>& instance_ids,
                      Done<std::vector<InstanceStatus>> done) override;
  void ListInstances(const std::string& group,
                     Done<std::vector<InstanceInfo>> done) override;
  void SnapshotVolumes(const std::string& instance_id,
                       Done<std::vector<Snapshot>> done) override;
  void AttachVolume(const std::string& volume_id,
                    const std::string& instance_id, const std::string& device,
                    DoneStatus done) override;
  void DetachVolume(const std::string& volume_id, DoneStatus done) override;
  void MoveAddress(const std::string& address,
                   const std::string& to_instance_id, DoneStatus done) override;
  void SetStatusSink(StatusSink sink) override { sink_ = std::move(sink); }

 private:
  struct Instance;
  using Continuation = std::function<void(Status)>;

  Instance* Find(const std::string& id);
  const Instance* Find(const std::string& id) const;
  // (from, to) directory copies, run off the loop thread.
  using CopyJobs = std::vector<std::pair<std::string, std::string>>;
  Status PrepareVolumes(const LaunchRequest& request, Instance& inst,
                        CopyJobs* copies);
  void FinishLaunch(const std::string& id, Status copied,
                    Done<InstanceInfo> done);
  // Runs the copies on a worker thread; `then` runs on the loop thread
  // with the first failure or OK (and never after destruction).
  void RunCopies(CopyJobs jobs, Continuation then);
  // Removes what a launch that did not finish created. The token entry is
  // removed too (a retry launches afresh) unless keep_token, when a retry
  // finds the instance terminated.
  void AbandonLaunch(const std::string& id, const std::string& token,
                     bool keep_token = false);
  Result<process::SnapshotRecord> UsableSnapshot(const std::string& op,
                                                 const std::string& snap_id);
  Status SpawnProcess(Instance& inst);
  Status Watch(Instance& inst, int pidfd);
  void OnProcessExit(const std::string& id);
  void KillThen(Instance& inst, const char* op, Continuation then);
  void OnGraceExpired(const std::string& id);
  void OnKillTimeout(const std::string& id);
  void Restart(const std::string& id, const char* op, bool require_running,
               DoneStatus done);
  void FinishTerminate(const std::string& id);
  // Writes the record now (fsync). Supersedes a pending SaveRecordSoon.
  Status SaveRecord(const Instance& inst);
  // Writes the record within kRecordFlushDelay unless a SaveRecord of the
  // instance comes first, so that neither the exit notification nor the
  // restart after it waits for an fsync. Only for writes whose loss in a
  // crash is harmless (adoption re-checks pid and start time); pending
  // writes are also done on destruction.
  void SaveRecordSoon(const Instance& inst);
  void FlushRecords();
  // Log files of an instance, watched for growth from spawn/adoption
  // until the instance is forgotten.
  void WatchLogs(const std::string& id);
  void ForgetLogs(const std::string& id);
  Status RotateLogsIn(const std::vector<std::string>& paths);
  InstanceStatus StatusOf(const Instance& inst) const;
  InstanceInfo InfoOf(const Instance& inst) const;
  std::vector<Volume> VolumesOf(const Instance& inst) const;
  std::string Describe(const Instance& inst) const;  // "web-a-3, pid 4121"
  void Notify(const Instance& inst);
  void ScheduleLogCheck();
  template <typename R>
  void Complete(std::function<void(R)> done, std::type_identity_t<R> value);

  EventLoop& loop_;
  const Clock& clock_;
  ProcessProviderConfig config_;
  process::StateDir state_;
  Status init_status_;
  // The state dir and its shared files loaded; unreadable single records
  // (reported by init_status_) do not stop launches.
  bool usable_ = false;
  StatusSink sink_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;
  // Extra volumes by id, and address -> holder; mirrored in the state dir.
  std::map<std::string, process::VolumeRecord> volumes_;
  std::map<std::string, std::string> addresses_;
  EventLoop::TimerId log_timer_ = EventLoop::kNoTimer;
  process::LogWatcher log_watch_;
  // Instances whose record SaveRecordSoon will write, when flush_timer_
  // fires.
  std::set<std::string> unsaved_;
  EventLoop::TimerId flush_timer_ = EventLoop::kNoTimer;
  // Copy workers by key; each is joined when its result reaches the loop,
  // the rest on destruction.
  std::map<uint64_t, std::thread> copiers_;
  uint64_t next_copier_ = 0;
  // Expires on destruction; results posted by workers check it.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace lifeline
