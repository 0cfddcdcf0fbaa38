// DaemonConfig: everything lifelined reads from its YAML file
// (docs/config.md is the reference of every key and its default).
//
// Plain values. Load it with LoadConfigFile / ParseConfig (config_loader.h),
// then apply flags and LIFELINE_* environment with ApplyOverrides
// (overrides.h). Defaults here are the documented defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "core/clock.h"
#include "model/group_spec.h"
#include "providers/sim/sim_config.h"
#include "providers/sim/sim_truth.h"

namespace lifeline {

enum class LogFormat { kText, kJson };
std::string_view ToString(LogFormat f);
bool ParseLogFormat(std::string_view s, LogFormat* out);

// spdlog's level names: trace, debug, info, warn, error, critical, off.
bool IsLogLevel(std::string_view s);

// "host:port" with a non-empty host and a decimal port in 0..65535 (what
// the API server can bind; lifelined's ParseListenAddress splits it).
bool IsHostPort(std::string_view s);

enum class ProviderKind { kProcess, kSim, kEc2 };
std::string_view ToString(ProviderKind k);
bool ParseProviderKind(std::string_view s, ProviderKind* out);

struct DaemonSection {
  std::string state_dir = "/var/lib/lifeline";
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";
  // READY/STOPPING/WATCHDOG to systemd; a no-op without NOTIFY_SOCKET.
  bool systemd_notify = true;
  // The loop measures its own lateness this often (stall detection).
  Duration stall_check_interval = std::chrono::milliseconds(100);
};

struct ApiSection {
  std::string listen = "127.0.0.1:9440";
  std::string tls_cert;  // both or neither
  std::string tls_key;
  // Extra tokens: "<role> <token>" per line (roles viewer, operator,
  // admin). The admin token in <state_dir>/admin.token is always accepted.
  std::string tokens_file;
  // How long an API call waits for the controller loop to answer.
  Duration loop_timeout = std::chrono::seconds(5);
};

struct SimSection {
  SimConfig config = DefaultSimConfig();
  uint64_t seed = 1;
  // Instances created running before the controller starts (adopted by
  // their groups): a simulated fleet without waiting for launches.
  std::vector<SimPopulateRequest> populate;
};

struct ProcessSection {
  // Empty: <daemon.state_dir>/instances.
  std::string state_dir;
  std::vector<std::string> zones = {"zone-a", "zone-b", "zone-c"};
  Duration terminate_grace = std::chrono::seconds(10);
  Duration kill_timeout = std::chrono::seconds(5);
  bool keep_data_on_terminate = false;
  std::string default_path = "/usr/local/bin:/usr/bin:/bin";
  // Per-instance stdout/stderr logs rotate past this size, keeping
  // log_keep rotated files.
  uint64_t log_max_bytes = 10 << 20;
  int log_keep = 3;
};

struct Ec2Section {
  std::string region;    // empty: from the AWS environment / profile
  std::string endpoint;  // empty: from the environment or the region
  std::string profile;   // empty: AWS_PROFILE or "default"
  int max_in_flight = 4;
  Duration request_timeout = std::chrono::seconds(20);
};

struct ProviderSection {
  ProviderKind kind = ProviderKind::kProcess;
  SimSection sim;
  ProcessSection process;
  Ec2Section ec2;
};

struct HeartbeatSection {
  std::vector<std::string> listen = {"127.0.0.1:7946"};
  // Address agents send to; empty: the first listen address (0.0.0.0 is
  // given to agents as 127.0.0.1).
  std::string advertise;
  int threads = 1;
  int rcvbuf_bytes = 16 << 20;
  Duration interval = std::chrono::milliseconds(200);
  Duration default_grace = std::chrono::seconds(30);
  Duration max_silence = std::chrono::seconds(10);
  double phi_suspect = 5;
  double phi_failed = 11;
  Duration clock_skew = std::chrono::seconds(30);
  int shards = 4;
  // key id (decimal) -> key file (hex secret, mode 0600).
  std::map<uint32_t, std::string> keys;
};

struct HistorySection {
  std::optional<Duration> max_age = std::chrono::hours(24 * 30);
  std::optional<uint64_t> max_count;
  size_t memory_capacity = 100000;
};

struct WebhookConfig {
  std::string url;
  // History event type prefixes ("recovery.", "safety."); empty: all.
  std::vector<std::string> events;
  // A header carrying a shared secret, read from secret_file.
  std::string secret_header;
  std::string secret_file;
  // HMAC-SHA256 signing key file: each delivery carries
  // X-Lifeline-Timestamp and X-Lifeline-Signature (docs/api.md).
  std::string signing_secret_file;
  Duration timeout = std::chrono::seconds(5);
  int max_attempts = 8;  // a failed delivery is retried up to this
  bool operator==(const WebhookConfig&) const = default;
};

// The zone-impairment detector (src/zones/autoshift.h); it acts only on
// groups with autoshift.enabled.
struct AutoshiftSection {
  Duration evaluate_every = std::chrono::seconds(1);
  Duration silence_sustain = std::chrono::seconds(30);
  Duration load_sustain = std::chrono::seconds(60);
  Duration hold_down = std::chrono::minutes(5);
  int min_instances_per_zone = 3;
  double silent_ratio = 0.5;
  double error_ratio = 0.02;
  Duration practice_check_every = std::chrono::seconds(1);
  bool operator==(const AutoshiftSection&) const = default;
};

struct DaemonConfig {
  std::string source;  // the file it was read from ("" if none)
  DaemonSection daemon;
  ApiSection api;
  ProviderSection provider;
  HeartbeatSection heartbeat;
  ControllerConfig controller;  // includes .safety
  HistorySection history;
  std::vector<WebhookConfig> webhooks;
  AutoshiftSection autoshift;
  std::vector<GroupSpec> groups;

  // True when some group checks application health (heartbeats needed).
  bool NeedsHeartbeats() const;
  // The process provider's state dir after defaults.
  std::string ProcessStateDir() const;
  // The address agents are told to send heartbeats to.
  std::string HeartbeatAdvertise() const;
};

// Makes the relative paths of the config absolute against `base_dir` (the
// directory lifelined was started in): state dirs, TLS and token files,
// heartbeat key files, webhook secret files, and launch commands that
// contain a '/' (a bare name is looked up in PATH by the provider).
void ResolveRelativePaths(const std::string& base_dir, DaemonConfig* config);

}  // namespace lifeline
