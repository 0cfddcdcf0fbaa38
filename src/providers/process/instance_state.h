// Internal to the process provider: the in-memory state of one instance and
// helpers shared by process_provider.cc and process_storage.cc.
#pragma once

#include <string>
#include <vector>

#include "providers/process/process_provider.h"

namespace lifeline {

struct ProcessProvider::Instance {
  process::InstanceRecord rec;  // mirrored in instances/<id>.json
  int pidfd = -1;               // >= 0 while a live process is watched
  bool preparing = false;       // Launch still copying snapshots: kPending
  bool terminating = false;     // Terminate accepted; no more restarts
  bool stopping = false;        // Stop/Terminate in progress: kStopping
  // Operation that started the SIGTERM/SIGKILL sequence, or nullptr.
  const char* killing_op = nullptr;
  EventLoop::TimerId grace_timer = EventLoop::kNoTimer;
  EventLoop::TimerId kill_timer = EventLoop::kNoTimer;
  // Run, in order, once the process is down (or the kill failed), or once
  // a launch in preparation has finished.
  std::vector<Continuation> on_down;
};

template <typename R>
void ProcessProvider::Complete(std::function<void(R)> done,
                               std::type_identity_t<R> value) {
  loop_.Post([done = std::move(done), value = std::move(value)]() mutable {
    done(std::move(value));
  });
}

namespace process {

// Group names, devices and tokens become file names: [A-Za-z0-9._-], not
// starting with '.', at most 64 characters.
bool IsSafeName(const std::string& s);

// "/dev/sdf" -> "sdf": the name a volume is attached under.
std::string DeviceName(const std::string& device);

// Checks a launch's volumes before anything is created: devices (by
// DeviceName) safe and not repeated, `volume_snapshots` naming only devices
// the launch has. A spec entry with device `data` (kRootDevice) declares the
// root data dir's properties rather than an extra volume, so it may not be
// detachable. InvalidArgument naming the field, prefixed with `op`.
Status CheckVolumes(const LaunchRequest& req, const std::string& op);

// Prefixes `op` ("process: Launch(web-a-3): ") to a failure's message,
// dropping the message's own "process: " so the text reads once.
inline Status WithContext(const Status& st, const std::string& op) {
  if (st.ok()) return st;
  std::string msg = st.message();
  if (msg.rfind("process: ", 0) == 0) msg.erase(0, 9);
  return Status(st.code(), op + msg);
}

// The root volume of an instance is its data dir.
inline constexpr const char* kRootDevice = "data";
inline std::string RootVolumeId(const std::string& instance_id) {
  return "vol-" + instance_id;
}

}  // namespace process
}  // namespace lifeline
