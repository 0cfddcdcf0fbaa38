#include "cli/client.h"

#include <httplib.h>

#include <cctype>
#include <memory>

namespace lifeline {

using nlohmann::json;

namespace {

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string WithQuery(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += sep + k + "=" + UrlEncode(v);
    sep = '&';
  }
  return out;
}

ApiClient::ApiClient(std::string endpoint, std::string token,
                     std::string ca_cert)
    : endpoint_(std::move(endpoint)),
      token_(std::move(token)),
      ca_cert_(std::move(ca_cert)) {}

std::unique_ptr<httplib::Client> ApiClient::Connect() const {
  auto c = std::make_unique<httplib::Client>(endpoint_);
  c->set_connection_timeout(std::chrono::seconds(5));
  c->set_read_timeout(std::chrono::seconds(60));
  c->set_write_timeout(std::chrono::seconds(30));
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (!ca_cert_.empty()) c->set_ca_cert_path(ca_cert_.c_str());
#endif
  return c;
}

Result<json> ApiClient::Finish(const std::string& what, int status,
                               const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (status >= 200 && status < 300) {
    if (j.is_discarded()) return json::object();
    return j;
  }
  std::string detail = j.is_object() && j.contains("detail")
                           ? j["detail"].get<std::string>()
                           : body;
  StatusCode code = StatusCode::kFailedPrecondition;
  if (status == 400) code = StatusCode::kInvalidArgument;
  if (status == 401) code = StatusCode::kUnauthenticated;
  if (status == 403) code = StatusCode::kPermissionDenied;
  if (status == 404) code = StatusCode::kNotFound;
  if (status >= 500) code = StatusCode::kUnavailable;
  return Status(code, what + ": " + std::to_string(status) + ": " + detail);
}

Result<json> ApiClient::Get(const std::string& path) {
  auto c = Connect();
  httplib::Headers h;
  if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
  auto r = c->Get(path.c_str(), h);
  if (!r) {
    return Unavailable("GET " + endpoint_ + path + ": " +
                       httplib::to_string(r.error()));
  }
  return Finish("GET " + path, r->status, r->body);
}

Result<json> ApiClient::Send(const std::string& method, const std::string& path,
                             const json& body) {
  auto c = Connect();
  httplib::Headers h;
  if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
  std::string text = body.dump();
  httplib::Result r(nullptr, httplib::Error::Unknown);
  if (method == "PUT") {
    r = c->Put(path.c_str(), h, text, "application/json");
  } else if (method == "PATCH") {
    r = c->Patch(path.c_str(), h, text, "application/json");
  } else {
    r = c->Post(path.c_str(), h, text, "application/json");
  }
  if (!r) {
    return Unavailable(method + " " + endpoint_ + path + ": " +
                       httplib::to_string(r.error()));
  }
  return Finish(method + " " + path, r->status, r->body);
}

Result<json> ApiClient::Delete(const std::string& path) {
  auto c = Connect();
  httplib::Headers h;
  if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
  auto r = c->Delete(path.c_str(), h);
  if (!r) {
    return Unavailable("DELETE " + endpoint_ + path + ": " +
                       httplib::to_string(r.error()));
  }
  return Finish("DELETE " + path, r->status, r->body);
}

Status ApiClient::Stream(const std::string& path,
                         const std::function<bool(const json&)>& on_event) {
  auto c = Connect();
  c->set_read_timeout(std::chrono::hours(24));
  httplib::Headers h;
  if (!token_.empty()) h.emplace("Authorization", "Bearer " + token_);
  std::string buffer;
  bool stopped = false;
  int status = 0;
  std::string error_body;
  auto r = c->Get(
      path.c_str(), h,
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          error_body.append(data, n);
          return true;
        }
        buffer.append(data, n);
        for (size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
          std::string frame = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          size_t pos = 0;
          while (pos < frame.size()) {
            size_t eol = frame.find('\n', pos);
            if (eol == std::string::npos) eol = frame.size();
            std::string line = frame.substr(pos, eol - pos);
            pos = eol + 1;
            if (line.rfind("data: ", 0) != 0) continue;
            json j = json::parse(line.substr(6), nullptr, false);
            if (j.is_discarded()) continue;
            if (!on_event(j)) {
              stopped = true;
              return false;
            }
          }
        }
        return true;
      });
  if (status != 0 && status != 200) {
    auto st = Finish("GET " + path, status, error_body);
    return st.status();
  }
  if (!r && !stopped) {
    return Unavailable("GET " + endpoint_ + path + ": " +
                       httplib::to_string(r.error()));
  }
  return Status::Ok();
}

}  // namespace lifeline
