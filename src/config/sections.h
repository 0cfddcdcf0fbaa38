// Parsers for the sections of lifelined's YAML config. Internal to
// src/config; each reads one node into its struct, leaving defaults for
// absent keys, and returns the first error with its location.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/daemon_config.h"
#include "config/yaml_reader.h"

namespace lifeline::config_internal {

Status ParseProvider(const YamlReader& r, const YAML::Node& n,
                     ProviderSection* out);
Status ParseGroup(const YamlReader& r, const YAML::Node& n,
                  const std::string& path, GroupSpec* out);

}  // namespace lifeline::config_internal
