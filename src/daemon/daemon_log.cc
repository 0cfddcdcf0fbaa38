#include "daemon/daemon_log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

namespace lifeline {

namespace {

std::string_view LevelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// key=value, quoting values with spaces, quotes or '=' in them.
void AppendTextField(std::string* out, const std::string& k,
                     const std::string& v) {
  *out += ' ';
  *out += k;
  *out += '=';
  if (!v.empty() && v.find_first_of(" \"=\t\n") == std::string::npos) {
    *out += v;
    return;
  }
  *out += nlohmann::json(v).dump();
}

}  // namespace

DaemonLog::DaemonLog(const Clock& clock, LogFormat format,
                     std::shared_ptr<spdlog::logger> logger)
    : clock_(clock), format_(format), logger_(std::move(logger)) {}

std::unique_ptr<DaemonLog> DaemonLog::ToStderr(const Clock& clock,
                                               LogFormat format,
                                               const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("lifelined", sink);
  logger->set_pattern("%v");
  logger->flush_on(spdlog::level::trace);
  auto log = std::make_unique<DaemonLog>(clock, format, std::move(logger));
  log->SetLevel(level);
  return log;
}

void DaemonLog::SetLevel(const std::string& level) {
  logger_->set_level(spdlog::level::from_str(level));
}

std::string DaemonLog::Format(spdlog::level::level_enum level,
                              std::string_view msg,
                              const Fields& fields) const {
  std::string ts = FormatWallTime(clock_.WallNow());
  if (format_.load() == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = LevelName(level);
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out = ts;
  out += ' ';
  std::string_view name = LevelName(level);
  out += name;
  out.append(name.size() < 5 ? 5 - name.size() : 0, ' ');
  out += ' ';
  out += msg;
  for (const auto& [k, v] : fields) AppendTextField(&out, k, v);
  return out;
}

void DaemonLog::Log(spdlog::level::level_enum level, std::string_view msg,
                    const Fields& fields) {
  if (!logger_->should_log(level)) return;
  logger_->log(level, "{}", Format(level, msg, fields));
}

void DaemonLog::Event(const HistoryEvent& e) {
  spdlog::level::level_enum level = spdlog::level::info;
  if (e.kind == EventKind::kAlert) level = spdlog::level::warn;
  if (e.kind == EventKind::kObservation) level = spdlog::level::debug;
  if (!logger_->should_log(level)) return;
  Fields f;
  f.emplace_back("event", e.type);
  f.emplace_back("kind", std::string(ToString(e.kind)));
  f.emplace_back("seq", std::to_string(e.seq));
  if (!e.group.empty()) f.emplace_back("group", e.group);
  if (!e.zone.empty()) f.emplace_back("zone", e.zone);
  if (!e.instance.empty()) f.emplace_back("instance", e.instance);
  if (!e.rule.empty()) f.emplace_back("rule", e.rule);
  for (const auto& [k, v] : e.evidence) f.emplace_back("evidence." + k, v);
  Log(level, e.message, f);
}

}  // namespace lifeline
