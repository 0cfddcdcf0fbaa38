#include "config/daemon_config.h"

#include <charconv>

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

bool IsHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const char* b = s.data() + colon + 1;
  const char* e = s.data() + s.size();
  int port = -1;
  auto [end, ec] = std::from_chars(b, e, port);
  return b != e && ec == std::errc() && end == e && port >= 0 && port <= 65535;
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

namespace {
void Absolute(const std::string& base, std::string* path) {
  if (path->empty() || (*path)[0] == '/') return;
  *path = base + "/" + *path;
}
}  // namespace

void ResolveRelativePaths(const std::string& base_dir, DaemonConfig* c) {
  Absolute(base_dir, &c->daemon.state_dir);
  Absolute(base_dir, &c->provider.process.state_dir);
  Absolute(base_dir, &c->api.tls_cert);
  Absolute(base_dir, &c->api.tls_key);
  Absolute(base_dir, &c->api.tokens_file);
  for (auto& [id, file] : c->heartbeat.keys) Absolute(base_dir, &file);
  for (auto& w : c->webhooks) {
    Absolute(base_dir, &w.secret_file);
    Absolute(base_dir, &w.signing_secret_file);
  }
  for (auto& g : c->groups) {
    if (g.launch.command.find('/') != std::string::npos) {
      Absolute(base_dir, &g.launch.command);
    }
  }
}

}  // namespace lifeline
