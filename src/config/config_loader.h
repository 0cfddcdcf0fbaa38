// Reading lifelined's YAML config into a DaemonConfig.
//
// Every error is kInvalidArgument and names the file, line, column and key:
//   examples/local.yaml:12:5: groups[0].desired: expected an integer, got "six"
// Unknown keys are errors. After parsing, every group is checked with
// GroupSpec::Validate and cross-checked against the rest of the file (a
// heartbeat key id that is not configured, a group name used twice); those
// errors carry the location of the group.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "config/daemon_config.h"
#include "core/status.h"

namespace lifeline {

// Parses YAML text; `file_name` is only used in messages.
Result<DaemonConfig> ParseConfig(std::string_view yaml_text,
                                 const std::string& file_name);

// Reads and parses the file at `path` (kNotFound if it cannot be read).
Result<DaemonConfig> LoadConfigFile(const std::string& path);

}  // namespace lifeline
