#include "cli/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace lifeline {

using nlohmann::json;

namespace {

json Scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted
  if (s == "~" || s == "null" || s.empty()) return nullptr;
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  char* end = nullptr;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (end && *end == '\0' && end != s.c_str()) return i;
  double d = std::strtod(s.c_str(), &end);
  if (end && *end == '\0' && end != s.c_str() &&
      s.find_first_of("0123456789") != std::string::npos &&
      s.find_first_not_of("0123456789.eE+-") == std::string::npos) {
    return d;
  }
  return s;
}

json Convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return Scalar(n);
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(Convert(e));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n)
        o[kv.first.as<std::string>()] = Convert(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

Result<json> YamlToJson(const std::string& text) {
  try {
    return Convert(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("YAML line " + std::to_string(e.mark.line + 1) +
                           ", column " + std::to_string(e.mark.column + 1) +
                           ": " + e.msg);
  }
}

}  // namespace lifeline
