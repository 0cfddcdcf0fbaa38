// DaemonLog: lifelined's log, as text lines or JSON lines, on spdlog.
//
// Text:  2026-01-01T00:00:03.250Z info  recovery.started web i-0abc: ...
// rule=... JSON:
// {"ts":"2026-01-01T00:00:03.250Z","level":"info","msg":"...",...} Every
// History event is logged through Event() with all its fields. Timestamps come
// from the injected Clock's wall time.
//
// Thread-safety: every method may be called from any thread (spdlog's
// multi-threaded sinks serialize writes). The Clock must outlive it.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/daemon_config.h"
#include "core/clock.h"
#include "history/history.h"

namespace lifeline {

class DaemonLog {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  // Logs to `logger` (which should print the message alone, pattern "%v").
  DaemonLog(const Clock& clock, LogFormat format,
            std::shared_ptr<spdlog::logger> logger);
  // A log on stderr at `level` (spdlog level name).
  static std::unique_ptr<DaemonLog> ToStderr(const Clock& clock,
                                             LogFormat format,
                                             const std::string& level);

  void Log(spdlog::level::level_enum level, std::string_view msg,
           const Fields& fields = {});
  void Info(std::string_view msg, const Fields& fields = {}) {
    Log(spdlog::level::info, msg, fields);
  }
  void Warn(std::string_view msg, const Fields& fields = {}) {
    Log(spdlog::level::warn, msg, fields);
  }
  void Error(std::string_view msg, const Fields& fields = {}) {
    Log(spdlog::level::err, msg, fields);
  }
  // A History event: alerts at warn, refusals at info, the rest at info
  // (observations at debug).
  void Event(const HistoryEvent& e);

  void SetLevel(const std::string& level);
  void SetFormat(LogFormat format) { format_.store(format); }
  // The formatted line without logging it (tests).
  std::string Format(spdlog::level::level_enum level, std::string_view msg,
                     const Fields& fields) const;

 private:
  const Clock& clock_;
  std::atomic<LogFormat> format_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace lifeline
