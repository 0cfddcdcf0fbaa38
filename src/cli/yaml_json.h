// YAML to JSON for "lifeline groups apply -f spec.yaml": plain scalars that
// read as integers, numbers, booleans or null become those; quoted scalars
// stay strings. Errors name the line and column.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace lifeline {

Result<nlohmann::json> YamlToJson(const std::string& text);

}  // namespace lifeline
