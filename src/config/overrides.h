// Overrides of the config file by command-line flags and LIFELINE_*
// environment variables. Precedence: flag, then environment, then file.
//
//   LIFELINE_STATE_DIR    daemon.state_dir
//   LIFELINE_API_LISTEN   api.listen
//   LIFELINE_LOG_FORMAT   daemon.log_format (text | json)
//   LIFELINE_LOG_LEVEL    daemon.log_level
//   LIFELINE_PROVIDER     provider.kind (process | sim | ec2)
//   LIFELINE_DRY_RUN_ALL  "true": every group's safety.dry_run
//
// Thread-safety: free functions without shared state.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "config/daemon_config.h"
#include "core/status.h"

namespace lifeline {

struct ConfigOverrides {
  std::optional<std::string> state_dir;
  std::optional<std::string> api_listen;
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
  std::optional<std::string> provider;
  std::optional<bool> dry_run_all;
};

// Reads one environment variable; nullopt when unset.
using EnvReader = std::function<std::optional<std::string>(const char*)>;
// The process environment (getenv).
EnvReader ProcessEnvironment();

// The overrides the LIFELINE_* variables ask for. kInvalidArgument naming
// the variable for a value that is not a boolean where one is expected.
Result<ConfigOverrides> OverridesFromEnvironment(const EnvReader& env);

// Fields set in `flags` win over those set in `env`.
ConfigOverrides Merge(const ConfigOverrides& env, const ConfigOverrides& flags);

// Applies the overrides; kInvalidArgument naming the override
// ("LIFELINE_LOG_FORMAT / --log-format: expected text or json, got xml")
// leaves *config unchanged.
Status ApplyOverrides(const ConfigOverrides& o, DaemonConfig* config);

}  // namespace lifeline
