// YamlReader: typed reads of yaml-cpp nodes whose errors name the file,
// line, column and key path:
//   examples/local.yaml:12:5: groups[0].desired: expected an integer, got "six"
//
// Internal to src/config. Every Read* leaves *out untouched on error. A
// Map() call checks that a node is a mapping whose keys are all known;
// unknown keys are errors (typos must not pass silently).
//
// Thread-safety: a value used by one thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline::config_internal {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // "file:line:col: path: what" (line and column 1-based).
  Status Error(const YAML::Node& at, std::string_view path,
               std::string_view what) const;
  Status ErrorAtMark(const YAML::Mark& mark, std::string_view path,
                     std::string_view what) const;

  // Checks that `node` is a mapping (or null: an empty section) and that
  // every key is one of `known`.
  Status Map(const YAML::Node& node, std::string_view path,
             std::initializer_list<std::string_view> known) const;
  // Checks that `node` is a sequence (or null).
  Status Seq(const YAML::Node& node, std::string_view path) const;

  Status ReadString(const YAML::Node& n, std::string_view path,
                    std::string* out) const;
  Status ReadInt(const YAML::Node& n, std::string_view path, int* out) const;
  Status ReadUint64(const YAML::Node& n, std::string_view path,
                    uint64_t* out) const;
  Status ReadDouble(const YAML::Node& n, std::string_view path,
                    double* out) const;
  Status ReadBool(const YAML::Node& n, std::string_view path, bool* out) const;
  Status ReadDuration(const YAML::Node& n, std::string_view path,
                      Duration* out) const;
  Status ReadStringList(const YAML::Node& n, std::string_view path,
                        std::vector<std::string>* out) const;
  Status ReadStringMap(const YAML::Node& n, std::string_view path,
                       std::map<std::string, std::string>* out) const;

  // Reads node[key] into *out when present (absent keeps the default).
  // ReadFn is one of the Read* members above.
  template <typename T, typename ReadFn>
  Status Opt(const YAML::Node& parent, std::string_view path, const char* key,
             T* out, ReadFn fn) const {
    YAML::Node n = parent[key];
    if (!n.IsDefined()) return Status::Ok();
    return (this->*fn)(n, Join(path, key), out);
  }

  static std::string Join(std::string_view path, std::string_view key);
  static std::string Index(std::string_view path, size_t i);
  const std::string& file() const { return file_; }

 private:
  Status Scalar(const YAML::Node& n, std::string_view path,
                std::string_view expected, std::string* text) const;

  std::string file_;
};

// Shorthands for Opt's reader argument.
inline constexpr auto kStr = &YamlReader::ReadString;
inline constexpr auto kInt = &YamlReader::ReadInt;
inline constexpr auto kU64 = &YamlReader::ReadUint64;
inline constexpr auto kDbl = &YamlReader::ReadDouble;
inline constexpr auto kBool = &YamlReader::ReadBool;
inline constexpr auto kDur = &YamlReader::ReadDuration;
inline constexpr auto kStrs = &YamlReader::ReadStringList;
inline constexpr auto kStrMap = &YamlReader::ReadStringMap;

}  // namespace lifeline::config_internal
