#include "config/daemon_config.h"

namespace lifeline {

std::string_view ToString(LogFormat f) {
  return f == LogFormat::kJson ? "json" : "text";
}

bool ParseLogFormat(std::string_view s, LogFormat* out) {
  if (s == "text") {
    *out = LogFormat::kText;
  } else if (s == "json") {
    *out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

bool IsLogLevel(std::string_view s) {
  for (std::string_view l :
       {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (s == l) return true;
  }
  return false;
}

std::string_view ToString(ProviderKind k) {
  switch (k) {
    case ProviderKind::kProcess:
      return "process";
    case ProviderKind::kSim:
      return "sim";
    case ProviderKind::kEc2:
      return "ec2";
  }
  return "unknown";
}

bool ParseProviderKind(std::string_view s, ProviderKind* out) {
  for (ProviderKind k :
       {ProviderKind::kProcess, ProviderKind::kSim, ProviderKind::kEc2}) {
    if (ToString(k) == s) {
      *out = k;
      return true;
    }
  }
  return false;
}

bool DaemonConfig::NeedsHeartbeats() const {
  for (const auto& g : groups) {
    if (g.check_application) return true;
  }
  return false;
}

std::string DaemonConfig::ProcessStateDir() const {
  if (!provider.process.state_dir.empty()) return provider.process.state_dir;
  return daemon.state_dir + "/instances";
}

std::string DaemonConfig::HeartbeatAdvertise() const {
  if (!heartbeat.advertise.empty()) return heartbeat.advertise;
  if (heartbeat.listen.empty()) return "";
  std::string a = heartbeat.listen.front();
  if (a.rfind("0.0.0.0:", 0) == 0) a = "127.0.0.1:" + a.substr(8);
  return a;
}

}  // namespace lifeline
