#include "providers/ec2/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace lifeline::ec2 {
namespace {

std::optional<std::string> NonEmpty(const EnvLookup& env,
                                    std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// Missing file: empty sections (the files are optional).
IniSections ReadIni(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseIni(ss.str());
}

const std::map<std::string, std::string>* Section(const IniSections& ini,
                                                  const std::string& name) {
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::string Get(const std::map<std::string, std::string>* s,
                const std::string& key) {
  if (s == nullptr) return "";
  auto it = s->find(key);
  return it == s->end() ? "" : it->second;
}

}  // namespace

Result<Ec2Config> Ec2Config::FromEnvironment() {
  return FromEnvironment(ProcessEnvironment());
}

Result<Ec2Config> Ec2Config::FromEnvironment(const EnvLookup& env) {
  Ec2Config c;
  const std::string home = NonEmpty(env, "HOME").value_or("");
  c.profile = NonEmpty(env, "AWS_PROFILE").value_or("default");
  const std::string creds_file = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE")
                                     .value_or(home + "/.aws/credentials");
  const std::string config_file =
      NonEmpty(env, "AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  const IniSections creds_ini = ReadIni(creds_file);
  const IniSections config_ini = ReadIni(config_file);
  const auto* creds_section = Section(creds_ini, c.profile);
  const auto* config_section = Section(
      config_ini, c.profile == "default" ? "default" : "profile " + c.profile);
  if (NonEmpty(env, "AWS_PROFILE") && creds_section == nullptr &&
      config_section == nullptr) {
    return InvalidArgument("ec2: AWS_PROFILE=" + c.profile +
                           ": no such profile in " + creds_file + " or " +
                           config_file);
  }

  if (auto r = NonEmpty(env, "AWS_REGION")) {
    c.region = *r;
  } else if (auto d = NonEmpty(env, "AWS_DEFAULT_REGION")) {
    c.region = *d;
  } else {
    c.region = Get(config_section, "region");
  }
  if (c.region.empty()) {
    return InvalidArgument(
        "ec2: no region: set AWS_REGION, AWS_DEFAULT_REGION or `region` "
        "for profile " +
        c.profile + " in " + config_file);
  }

  if (auto e = NonEmpty(env, "AWS_ENDPOINT_URL_EC2")) {
    c.endpoint = *e;
  } else if (auto g = NonEmpty(env, "AWS_ENDPOINT_URL")) {
    c.endpoint = *g;
  } else {
    c.endpoint = Get(config_section, "endpoint_url");
  }

  auto key = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (key.has_value() != secret.has_value()) {
    return InvalidArgument(
        std::string("ec2: ") +
        (key ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
             : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
  }
  if (key) {
    c.credentials.access_key_id = *key;
    c.credentials.secret_access_key = *secret;
    c.credentials.session_token =
        NonEmpty(env, "AWS_SESSION_TOKEN").value_or("");
    c.credentials_origin = "environment";
    return c;
  }
  for (auto [section, file] : {std::pair{creds_section, creds_file},
                               std::pair{config_section, config_file}}) {
    std::string id = Get(section, "aws_access_key_id");
    std::string sk = Get(section, "aws_secret_access_key");
    if (id.empty() && sk.empty()) continue;
    if (id.empty() || sk.empty()) {
      return InvalidArgument("ec2: profile " + c.profile + " in " + file +
                             " has only half a key pair (need "
                             "aws_access_key_id and aws_secret_access_key)");
    }
    c.credentials.access_key_id = id;
    c.credentials.secret_access_key = sk;
    c.credentials.session_token = Get(section, "aws_session_token");
    c.credentials_origin = "profile " + c.profile + " in " + file;
    return c;
  }
  for (const char* unsupported :
       {"role_arn", "credential_process", "sso_session", "sso_start_url"}) {
    if (!Get(config_section, unsupported).empty() ||
        !Get(creds_section, unsupported).empty()) {
      return InvalidArgument("ec2: profile " + c.profile + " uses " +
                             unsupported +
                             ", which Lifeline does not support; export "
                             "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/"
                             "AWS_SESSION_TOKEN or use an instance role");
    }
  }
  if (NonEmpty(env, "AWS_EC2_METADATA_DISABLED").value_or("") == "true") {
    return InvalidArgument(
        "ec2: no credentials: not in the environment, not in profile " +
        c.profile + ", and AWS_EC2_METADATA_DISABLED=true");
  }
  c.credentials_source = CredentialsSource::kImds;
  c.credentials_origin = "IMDS";
  if (auto m = NonEmpty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    c.imds_endpoint = *m;
    while (!c.imds_endpoint.empty() && c.imds_endpoint.back() == '/') {
      c.imds_endpoint.pop_back();
    }
  }
  return c;
}

Result<Ec2Config> Ec2Config::FromSettings(
    const std::map<std::string, std::string>& settings, const EnvLookup& env) {
  static const std::map<std::string, std::string> kAsVariable = {
      {"region", "AWS_REGION"},
      {"endpoint", "AWS_ENDPOINT_URL_EC2"},
      {"profile", "AWS_PROFILE"},
      {"imds_endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT"}};
  static const std::set<std::string> kKeyVariables = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"};
  auto get = [&](const std::string& key) -> std::string {
    auto it = settings.find(key);
    return it == settings.end() ? "" : it->second;
  };
  const std::string source =
      get("credentials").empty() ? "auto" : get("credentials");
  if (source != "auto" && source != "environment" && source != "profile" &&
      source != "imds") {
    return InvalidArgument("ec2: settings: credentials: " + source +
                           " is not one of auto, environment, profile, imds");
  }
  const bool hide_keys = source == "profile" || source == "imds";
  EnvLookup layered = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [key, variable] : kAsVariable) {
      if (variable == name && settings.count(key)) return settings.at(key);
    }
    if (hide_keys && kKeyVariables.count(std::string(name))) {
      return std::nullopt;
    }
    return env(name);
  };
  auto c = FromEnvironment(layered);
  if (!c.ok()) return c.status();
  if (source == "environment" && c->credentials_origin != "environment") {
    return InvalidArgument(
        "ec2: settings: credentials: environment, but AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY are not set");
  }
  if (source == "profile" && c->credentials_origin.rfind("profile", 0) != 0) {
    return InvalidArgument("ec2: settings: credentials: profile, but profile " +
                           c->profile + " holds no keys");
  }
  if (source == "imds") {
    c->credentials_source = CredentialsSource::kImds;
    c->credentials = {};
    c->credentials_origin = "IMDS";
  }

  for (const auto& [key, value] : settings) {
    if (kAsVariable.count(key) || key == "credentials") continue;
    Duration* duration = key == "connect_timeout"   ? &c->connect_timeout
                         : key == "request_timeout" ? &c->request_timeout
                         : key == "initial_backoff" ? &c->retry.initial_backoff
                         : key == "max_backoff"     ? &c->retry.max_backoff
                         : key == "eventual_consistency_window"
                             ? &c->retry.eventual_consistency_window
                         : key == "poll_interval" ? &c->poll_interval
                         : key == "wait_timeout"  ? &c->wait_timeout
                                                  : nullptr;
    int* integer = key == "max_attempts"    ? &c->retry.max_attempts
                   : key == "max_in_flight" ? &c->max_in_flight
                   : key == "page_size"     ? &c->page_size
                                            : nullptr;
    if (duration != nullptr) {
      if (!ParseDuration(value, duration)) {
        return InvalidArgument("ec2: settings: " + key + ": \"" + value +
                               "\" is not a duration (e.g. 250ms, 3s, 15m)");
      }
    } else if (integer != nullptr) {
      auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), *integer);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return InvalidArgument("ec2: settings: " + key + ": \"" + value +
                               "\" is not an integer");
      }
    } else {
      return InvalidArgument("ec2: settings: unknown key " + key);
    }
  }
  LIFELINE_RETURN_IF_ERROR(c->Validate());
  return c;
}

std::string Ec2Config::EndpointUrl() const {
  if (!endpoint.empty()) return endpoint;
  return "https://ec2." + region + ".amazonaws.com";
}

Status Ec2Config::Validate() const {
  if (region.empty()) return InvalidArgument("ec2: config: region is empty");
  std::string url = EndpointUrl();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument("ec2: config: endpoint " + url +
                           " is not an http(s) URL");
  }
  if (credentials_source == CredentialsSource::kStatic &&
      (credentials.access_key_id.empty() ||
       credentials.secret_access_key.empty())) {
    return InvalidArgument("ec2: config: static credentials are empty");
  }
  if (max_in_flight < 1 || max_in_flight > 64) {
    return InvalidArgument("ec2: config: max_in_flight must be 1..64, got " +
                           std::to_string(max_in_flight));
  }
  if (page_size < 5 || page_size > 1000) {
    return InvalidArgument("ec2: config: page_size must be 5..1000, got " +
                           std::to_string(page_size));
  }
  if (retry.max_attempts < 1) {
    return InvalidArgument("ec2: config: retry.max_attempts must be >= 1");
  }
  if (poll_interval <= Duration::zero() ||
      request_timeout <= Duration::zero()) {
    return InvalidArgument(
        "ec2: config: poll_interval and request_timeout must be positive");
  }
  return Status::Ok();
}

}  // namespace lifeline::ec2
