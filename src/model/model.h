// The fleet model: launch specs, instances as providers report them, and
// the health vocabulary shared by every component.
//
// Plain values; no behaviour beyond ToString/Parse helpers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace lifeline {

// ---- lifecycle and health -------------------------------------------------

// Provider-side lifecycle of an instance (EC2's instance-state names).
enum class Lifecycle { kPending, kRunning, kStopping, kStopped, kTerminated };
std::string_view ToString(Lifecycle s);
bool ParseLifecycle(std::string_view s, Lifecycle* out);

// One provider check (EC2 status-check vocabulary).
enum class CheckState { kUnknown, kOk, kImpaired, kInitializing };
std::string_view ToString(CheckState s);
bool ParseCheckState(std::string_view s, CheckState* out);

// Application health, from heartbeats, probes and SetInstanceHealth.
//   kUnknown  : nothing heard yet (grace period)
//   kOk       : heartbeats arrive and report ok
//   kDegraded : heartbeats arrive but report degraded (gray failure signal)
//   kSuspect  : the detector suspects the instance (subjectively down)
//   kFailed   : the detector or the agent declares failure
enum class AppHealth { kUnknown, kOk, kDegraded, kSuspect, kFailed };
std::string_view ToString(AppHealth s);
bool ParseAppHealth(std::string_view s, AppHealth* out);

// The three independent health checks (DESIGN.md, Signals).
enum class CheckKind { kSystem, kInstance, kApplication };
std::string_view ToString(CheckKind k);
bool ParseCheckKind(std::string_view s, CheckKind* out);

// ---- launch specification -------------------------------------------------

struct VolumeSpec {
  std::string device;          // "/dev/sdf", or a directory name locally
  int size_gib = 8;
  bool detachable = false;     // moved to the replacement instead of copied
  bool snapshot_on_replace = false;
  bool operator==(const VolumeSpec&) const = default;
};

// Everything needed to launch an identical instance. Cloud fields (image,
// type, security groups, subnets) and local-process fields (command, args,
// env) live side by side; each provider uses the ones it understands.
struct LaunchSpec {
  std::string image;
  std::string instance_type;
  std::vector<std::string> security_groups;
  std::map<std::string, std::string> subnet_by_zone;
  std::map<std::string, std::string> tags;
  std::string user_data;
  std::vector<VolumeSpec> volumes;
  std::string key_name;
  // Local processes:
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  bool operator==(const LaunchSpec&) const = default;
};

// ---- what a provider reports ----------------------------------------------

struct Volume {
  std::string id;
  std::string device;
  bool detachable = false;
  bool operator==(const Volume&) const = default;
};

struct InstanceInfo {
  std::string id;
  std::string group;            // from the lifeline:group tag
  std::string zone;
  std::string host;             // physical host (sim), "local" (process)
  Lifecycle lifecycle = Lifecycle::kPending;
  CheckState system_check = CheckState::kUnknown;
  CheckState instance_check = CheckState::kUnknown;
  std::vector<Volume> volumes;
  std::vector<std::string> addresses;  // public/elastic addresses held
  std::map<std::string, std::string> tags;
  std::string launch_token;     // idempotency token it was launched with
  WallTime launch_time{};
};

// Status as returned by a batched DescribeStatus call or pushed as an event.
struct InstanceStatus {
  std::string id;
  Lifecycle lifecycle = Lifecycle::kPending;
  CheckState system_check = CheckState::kUnknown;
  CheckState instance_check = CheckState::kUnknown;
};

struct ZoneInfo {
  std::string name;
  bool available = true;
};

struct Snapshot {
  std::string id;
  std::string volume_id;
  std::string device;
  bool complete = false;
};

// A transition of an instance's application health, produced by the
// heartbeat pipeline (or a probe) and consumed by the controller.
struct AppHealthTransition {
  std::string instance_id;
  AppHealth health = AppHealth::kUnknown;
  MonoTime at{};
  std::string reason;     // "no heartbeat for 312ms (phi 9.1)", "agent: failing"
  double phi = 0;         // detector suspicion level when relevant
  // Who says so: "heartbeat" (the detector, from silence), "agent" (the
  // instance's own report), "probe" (an active check). Silence alone is
  // never enough for a destructive action (see SafetyGovernor, agreement).
  std::string source = "heartbeat";
};

// Load signals reported by agents, for gray-failure detection.
struct LoadReport {
  std::string instance_id;
  double error_ratio = 0;      // 0..1
  double latency_ms = 0;
  MonoTime at{};
};

// Tag keys Lifeline puts on everything it launches.
inline constexpr std::string_view kGroupTag = "lifeline:group";
inline constexpr std::string_view kTokenTag = "lifeline:token";

}  // namespace lifeline
