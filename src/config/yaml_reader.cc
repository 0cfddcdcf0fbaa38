#include "config/yaml_reader.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace lifeline::config_internal {

namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// What a non-scalar node is, for "expected X, got a mapping".
std::string Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return Quote(n.Scalar());
  }
  return "something else";
}

}  // namespace

std::string YamlReader::Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

std::string YamlReader::Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Status YamlReader::ErrorAtMark(const YAML::Mark& mark, std::string_view path,
                               std::string_view what) const {
  std::string where = file_;
  if (!mark.is_null()) {
    // Appended piece by piece: GCC 12 -O3 reports a false -Wrestrict for
    // `":" + std::to_string(...)` (GCC bug 105651).
    where += ':';
    where += std::to_string(mark.line + 1);
    where += ':';
    where += std::to_string(mark.column + 1);
  }
  std::string msg = where + ": ";
  if (!path.empty()) msg += std::string(path) + ": ";
  msg += what;
  return InvalidArgument(msg);
}

Status YamlReader::Error(const YAML::Node& at, std::string_view path,
                         std::string_view what) const {
  YAML::Mark mark = YAML::Mark::null_mark();
  if (at.IsDefined()) mark = at.Mark();
  return ErrorAtMark(mark, path, what);
}

Status YamlReader::Map(const YAML::Node& node, std::string_view path,
                       std::initializer_list<std::string_view> known) const {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap()) {
    return Error(node, path, "expected a mapping, got " + Describe(node));
  }
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) return Error(key, path, "a key must be a string");
    for (const auto& s : seen) {
      if (s == key.Scalar()) {
        return Error(key, Join(path, s), "key given twice");
      }
    }
    seen.push_back(key.Scalar());
    bool found = false;
    for (auto k : known) found = found || k == key.Scalar();
    if (!found) {
      std::string list;
      for (auto k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      return Error(key, Join(path, key.Scalar()),
                   "unknown key (known keys here: " + list + ")");
    }
  }
  return Status::Ok();
}

Status YamlReader::Seq(const YAML::Node& node, std::string_view path) const {
  if (node.IsNull() || node.IsSequence()) return Status::Ok();
  return Error(node, path, "expected a list, got " + Describe(node));
}

Status YamlReader::Scalar(const YAML::Node& n, std::string_view path,
                          std::string_view expected, std::string* text) const {
  if (!n.IsScalar()) {
    return Error(n, path,
                 "expected " + std::string(expected) + ", got " + Describe(n));
  }
  *text = n.Scalar();
  return Status::Ok();
}

Status YamlReader::ReadString(const YAML::Node& n, std::string_view path,
                              std::string* out) const {
  if (n.IsNull()) {
    out->clear();
    return Status::Ok();
  }
  return Scalar(n, path, "a string", out);
}

Status YamlReader::ReadInt(const YAML::Node& n, std::string_view path,
                           int* out) const {
  std::string s;
  LIFELINE_RETURN_IF_ERROR(Scalar(n, path, "an integer", &s));
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return Error(n, path, "integer " + Quote(s) + " is out of range");
  }
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Error(n, path, "expected an integer, got " + Quote(s));
  }
  *out = v;
  return Status::Ok();
}

Status YamlReader::ReadUint64(const YAML::Node& n, std::string_view path,
                              uint64_t* out) const {
  std::string s;
  LIFELINE_RETURN_IF_ERROR(Scalar(n, path, "a non-negative integer", &s));
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Error(n, path, "expected a non-negative integer, got " + Quote(s));
  }
  *out = v;
  return Status::Ok();
}

Status YamlReader::ReadDouble(const YAML::Node& n, std::string_view path,
                              double* out) const {
  std::string s;
  LIFELINE_RETURN_IF_ERROR(Scalar(n, path, "a number", &s));
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || v != v) {
    return Error(n, path, "expected a number, got " + Quote(s));
  }
  *out = v;
  return Status::Ok();
}

Status YamlReader::ReadBool(const YAML::Node& n, std::string_view path,
                            bool* out) const {
  std::string s;
  LIFELINE_RETURN_IF_ERROR(Scalar(n, path, "true or false", &s));
  if (s == "true" || s == "yes" || s == "on") {
    *out = true;
  } else if (s == "false" || s == "no" || s == "off") {
    *out = false;
  } else {
    return Error(n, path, "expected true or false, got " + Quote(s));
  }
  return Status::Ok();
}

Status YamlReader::ReadDuration(const YAML::Node& n, std::string_view path,
                                Duration* out) const {
  std::string s;
  LIFELINE_RETURN_IF_ERROR(
      Scalar(n, path, "a duration (\"250ms\", \"5m\")", &s));
  Duration d;
  if (!ParseDuration(s, &d)) {
    return Error(n, path,
                 "expected a duration such as \"250ms\", \"30s\", \"5m\" or "
                 "\"1h30m\", got " +
                     Quote(s));
  }
  *out = d;
  return Status::Ok();
}

Status YamlReader::ReadStringList(const YAML::Node& n, std::string_view path,
                                  std::vector<std::string>* out) const {
  LIFELINE_RETURN_IF_ERROR(Seq(n, path));
  std::vector<std::string> v;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string s;
    LIFELINE_RETURN_IF_ERROR(ReadString(n[i], Index(path, i), &s));
    v.push_back(std::move(s));
  }
  *out = std::move(v);
  return Status::Ok();
}

Status YamlReader::ReadStringMap(
    const YAML::Node& n, std::string_view path,
    std::map<std::string, std::string>* out) const {
  if (n.IsNull()) {
    out->clear();
    return Status::Ok();
  }
  if (!n.IsMap()) {
    return Error(n, path, "expected a mapping, got " + Describe(n));
  }
  std::map<std::string, std::string> m;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) {
      return Error(it->first, path, "a key must be a string");
    }
    std::string key = it->first.Scalar();
    std::string value;
    LIFELINE_RETURN_IF_ERROR(ReadString(it->second, Join(path, key), &value));
    m[key] = std::move(value);
  }
  *out = std::move(m);
  return Status::Ok();
}

}  // namespace lifeline::config_internal
