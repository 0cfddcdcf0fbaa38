// JsonReader: strict, typed reads of one JSON object's fields, for the
// request decoders (decode.cc). Each read names the field by its full path
// ("launch.volumes[0].size_gib") in its error; Finish() rejects any field
// that no read asked for, so a misspelt field is an error instead of being
// silently ignored.
//
// An absent field (or, for optional fields, JSON null) leaves the output
// untouched and is not an error; callers that need a field use Require().
//
// Thread-safety: a value used by one thread; it refers to the json it was
// given, which must outlive it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline {

// "a string", "an integer", "an object", ... for error messages.
std::string JsonTypeName(const nlohmann::json& j);

class JsonReader {
 public:
  // `path` is the object's own path ("" for the body, "launch", ...).
  JsonReader(const nlohmann::json& object, std::string path);

  // The full path of a field of this object.
  std::string Field(const std::string& key) const;
  bool Has(const std::string& key);
  Status Require(const std::string& key);

  Status Int(const std::string& key, int* out, int64_t lo, int64_t hi);
  Status Uint(const std::string& key, uint64_t* out);
  Status Double(const std::string& key, double* out, double lo, double hi);
  Status Bool(const std::string& key, bool* out);
  Status String(const std::string& key, std::string* out,
                size_t max_len = 4096);
  Status OptString(const std::string& key, std::optional<std::string>* out,
                   size_t max_len = 4096);
  Status Dur(const std::string& key, Duration* out, Duration lo, Duration hi);
  Status StringList(const std::string& key, std::vector<std::string>* out);
  Status StringMap(const std::string& key,
                   std::map<std::string, std::string>* out);
  // The field as an object or array: nullptr (and OK) when absent.
  Status Object(const std::string& key, const nlohmann::json** out);
  Status Array(const std::string& key, const nlohmann::json** out);

  // InvalidArgument naming the first field that no read asked for.
  Status Finish() const;

 private:
  const nlohmann::json* Get(const std::string& key);
  Status TypeError(const std::string& key, const char* expected,
                   const nlohmann::json& got) const;

  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> known_;
};

}  // namespace lifeline
