#include "providers/ec2/credentials.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "providers/ec2/http.h"

namespace lifeline::ec2 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

IniSections ParseIni(std::string_view text) {
  IniSections out;
  std::string section;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
    if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
      continue;  // nested setting ("s3 =\n  max_concurrent_requests = 4")
    }
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      out[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || section.empty()) continue;
    out[section][std::string(Trim(line.substr(0, eq)))] =
        std::string(Trim(line.substr(eq + 1)));
  }
  return out;
}

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

ImdsCredentialsProvider::ImdsCredentialsProvider(std::string endpoint,
                                                 const Clock& clock,
                                                 Duration timeout)
    : endpoint_(std::move(endpoint)), clock_(clock), timeout_(timeout) {}

Result<AwsCredentials> ImdsCredentialsProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && (!cached_->expiration ||
                  clock_.WallNow() + minutes(5) < *cached_->expiration)) {
    return *cached_;
  }
  Result<AwsCredentials> fresh = Fetch();
  if (fresh.ok()) cached_ = fresh.value();
  return fresh;
}

Result<AwsCredentials> ImdsCredentialsProvider::Fetch() {
  const std::string what = "ec2: credentials from IMDS (" + endpoint_ + ")";
  CurlHttp http;
  HttpRequest req;
  req.connect_timeout = timeout_;
  req.timeout = timeout_;
  req.method = "PUT";
  req.url = endpoint_ + "/latest/api/token";
  req.headers = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
  auto token = http.Perform(req);
  if (!token.ok())
    return Unauthenticated(what + ": " + token.status().message());
  if (token->status != 200) {
    return Unauthenticated(what + ": token request returned HTTP " +
                           std::to_string(token->status));
  }
  req.method = "GET";
  req.headers = {"X-aws-ec2-metadata-token: " + token->body};
  req.url = endpoint_ + "/latest/meta-data/iam/security-credentials/";
  auto role = http.Perform(req);
  if (!role.ok()) return Unauthenticated(what + ": " + role.status().message());
  std::string role_name(Trim(role->body.substr(0, role->body.find('\n'))));
  if (role->status != 200 || role_name.empty()) {
    return Unauthenticated(what +
                           ": no IAM role attached to this instance "
                           "(HTTP " +
                           std::to_string(role->status) + ")");
  }
  req.url += role_name;
  auto keys = http.Perform(req);
  if (!keys.ok()) return Unauthenticated(what + ": " + keys.status().message());
  if (keys->status != 200) {
    return Unauthenticated(what + ": role " + role_name + " returned HTTP " +
                           std::to_string(keys->status));
  }
  nlohmann::json j = nlohmann::json::parse(keys->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() ||
      !j.value("AccessKeyId", nlohmann::json()).is_string() ||
      !j.value("SecretAccessKey", nlohmann::json()).is_string()) {
    return Unauthenticated(what + ": role " + role_name +
                           ": response is not a credentials document");
  }
  AwsCredentials c;
  c.access_key_id = j["AccessKeyId"].get<std::string>();
  c.secret_access_key = j["SecretAccessKey"].get<std::string>();
  if (j.contains("Token") && j["Token"].is_string()) {
    c.session_token = j["Token"].get<std::string>();
  }
  WallTime expiration;
  if (j.contains("Expiration") && j["Expiration"].is_string() &&
      ParseWallTime(j["Expiration"].get<std::string>(), &expiration)) {
    c.expiration = expiration;
  }
  return c;
}

}  // namespace lifeline::ec2
