// ApiClient: the lifeline CLI's view of the HTTP API (cpp-httplib client).
//
// Every call returns the decoded JSON body of a 2xx answer, or a Status:
// the server's problem detail for a 4xx/5xx ("404: instance \"i-1\" is not
// managed by Lifeline"), or kUnavailable when the server cannot be reached.
//
// Thread-safety: one client per thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace lifeline {

class ApiClient {
 public:
  // `endpoint`: "http://127.0.0.1:9440" or "https://host:port".
  // `ca_cert`: a PEM file to verify an https endpoint with (e.g. the
  // daemon's self-signed certificate); empty: the system's CAs.
  ApiClient(std::string endpoint, std::string token, std::string ca_cert = "");

  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Send(const std::string& method,
                              const std::string& path,
                              const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& path);
  // Reads a server-sent-event stream, calling on_event with each event's
  // data (a JSON object) until on_event returns false or the stream ends.
  Status Stream(const std::string& path,
                const std::function<bool(const nlohmann::json&)>& on_event);

 private:
  Result<nlohmann::json> Finish(const std::string& what, int status,
                                const std::string& body);
  std::unique_ptr<httplib::Client> Connect() const;

  std::string endpoint_;
  std::string token_;
  std::string ca_cert_;
};

// "path?k=v&..." with the values URL-encoded; empty values are left out.
std::string WithQuery(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace lifeline
