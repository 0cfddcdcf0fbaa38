#include "api/json_reader.h"

#include <cmath>

namespace lifeline {

using nlohmann::json;

std::string JsonTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "an unsupported value";
  }
}

JsonReader::JsonReader(const json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string JsonReader::Field(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const json* JsonReader::Get(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonReader::Has(const std::string& key) { return Get(key) != nullptr; }

Status JsonReader::Require(const std::string& key) {
  if (Has(key)) return Status::Ok();
  return InvalidArgument("field " + Field(key) + ": required");
}

Status JsonReader::TypeError(const std::string& key, const char* expected,
                             const json& got) const {
  return InvalidArgument("field " + Field(key) + ": expected " + expected +
                         ", got " + JsonTypeName(got));
}

Status JsonReader::Int(const std::string& key, int* out, int64_t lo,
                       int64_t hi) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_number_integer()) return TypeError(key, "an integer", *v);
  bool in_range;
  int64_t x = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(hi);
    x = in_range ? static_cast<int64_t>(u) : hi;
    in_range = in_range && x >= lo;
  } else {
    x = v->get<int64_t>();
    in_range = x >= lo && x <= hi;
  }
  if (!in_range) {
    return InvalidArgument("field " + Field(key) + ": " + v->dump() +
                           " is out of range [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  }
  *out = static_cast<int>(x);
  return Status::Ok();
}

Status JsonReader::Uint(const std::string& key, uint64_t* out) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_number_unsigned()) {
    return TypeError(key, "a non-negative integer", *v);
  }
  *out = v->get<uint64_t>();
  return Status::Ok();
}

Status JsonReader::Double(const std::string& key, double* out, double lo,
                          double hi) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_number()) return TypeError(key, "a number", *v);
  double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    return InvalidArgument("field " + Field(key) + ": " + v->dump() +
                           " is out of range [" + json(lo).dump() + ", " +
                           json(hi).dump() + "]");
  }
  *out = x;
  return Status::Ok();
}

Status JsonReader::Bool(const std::string& key, bool* out) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_boolean()) return TypeError(key, "a boolean", *v);
  *out = v->get<bool>();
  return Status::Ok();
}

Status JsonReader::String(const std::string& key, std::string* out,
                          size_t max_len) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_string()) return TypeError(key, "a string", *v);
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return InvalidArgument("field " + Field(key) + ": longer than " +
                           std::to_string(max_len) + " bytes");
  }
  *out = s;
  return Status::Ok();
}

Status JsonReader::OptString(const std::string& key,
                             std::optional<std::string>* out, size_t max_len) {
  std::string s;
  if (!Has(key)) return Status::Ok();
  LIFELINE_RETURN_IF_ERROR(String(key, &s, max_len));
  *out = std::move(s);
  return Status::Ok();
}

Status JsonReader::Dur(const std::string& key, Duration* out, Duration lo,
                       Duration hi) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_string()) {
    return TypeError(key, "a duration string like \"30s\" or \"5m\"", *v);
  }
  Duration d{};
  if (!ParseDuration(v->get<std::string>(), &d)) {
    return InvalidArgument("field " + Field(key) + ": " + v->dump() +
                           " is not a duration (use forms like \"500ms\", "
                           "\"30s\", \"5m\", \"1h30m\")");
  }
  if (d < lo || d > hi) {
    return InvalidArgument("field " + Field(key) + ": " + v->dump() +
                           " is out of range [" + FormatDuration(lo) + ", " +
                           FormatDuration(hi) + "]");
  }
  *out = d;
  return Status::Ok();
}

Status JsonReader::StringList(const std::string& key,
                              std::vector<std::string>* out) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_array()) return TypeError(key, "an array of strings", *v);
  std::vector<std::string> list;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      return InvalidArgument("field " + Field(key) + "[" + std::to_string(i) +
                             "]: expected a string, got " + JsonTypeName(e));
    }
    list.push_back(e.get<std::string>());
  }
  *out = std::move(list);
  return Status::Ok();
}

Status JsonReader::StringMap(const std::string& key,
                             std::map<std::string, std::string>* out) {
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_object()) {
    return TypeError(key, "an object of string values", *v);
  }
  std::map<std::string, std::string> m;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) {
      return InvalidArgument("field " + Field(key) + "." + it.key() +
                             ": expected a string, got " + JsonTypeName(*it));
    }
    m[it.key()] = it->get<std::string>();
  }
  *out = std::move(m);
  return Status::Ok();
}

Status JsonReader::Object(const std::string& key, const json** out) {
  *out = nullptr;
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_object()) return TypeError(key, "an object", *v);
  *out = v;
  return Status::Ok();
}

Status JsonReader::Array(const std::string& key, const json** out) {
  *out = nullptr;
  const json* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_array()) return TypeError(key, "an array", *v);
  *out = v;
  return Status::Ok();
}

Status JsonReader::Finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    return InvalidArgument("field " + Field(it.key()) +
                           ": unknown field (known fields: " + known + ")");
  }
  return Status::Ok();
}

}  // namespace lifeline
