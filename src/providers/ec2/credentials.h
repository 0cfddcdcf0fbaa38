// AWS credentials and where they come from: fixed keys (environment,
// shared credentials/config file profiles, or the daemon's configuration)
// or the EC2 instance metadata service (IMDSv2) when running on EC2.
//
// Thread-safety: CredentialsProvider::Get() is called from the HTTP worker
// threads and must be thread-safe; both implementations here are.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline::ec2 {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;           // empty for long-term keys
  std::optional<WallTime> expiration;  // set for temporary credentials
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // May block (IMDS does HTTP). kUnauthenticated when none can be had.
  virtual Result<AwsCredentials> Get() = 0;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials c) : c_(std::move(c)) {}
  Result<AwsCredentials> Get() override { return c_; }

 private:
  const AwsCredentials c_;
};

// IMDSv2: PUT /latest/api/token, then the role name from
// /latest/meta-data/iam/security-credentials/, then that role's keys.
// Cached until five minutes before they expire.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  // endpoint: "http://169.254.169.254" unless overridden
  // (AWS_EC2_METADATA_SERVICE_ENDPOINT). clock must outlive this.
  ImdsCredentialsProvider(std::string endpoint, const Clock& clock,
                          Duration timeout);
  Result<AwsCredentials> Get() override;

 private:
  Result<AwsCredentials> Fetch();

  const std::string endpoint_;
  const Clock& clock_;
  const Duration timeout_;
  std::mutex mu_;
  std::optional<AwsCredentials> cached_;  // guarded by mu_
};

// An INI document as the AWS shared files use it: section -> key -> value.
// Indented continuation lines (nested settings) are skipped; '#' and ';'
// start comments.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
IniSections ParseIni(std::string_view text);

// Reads environment variables; injected so tests need not touch the
// process environment.
using EnvLookup =
    std::function<std::optional<std::string>(std::string_view name)>;
// The process environment.
EnvLookup ProcessEnvironment();

}  // namespace lifeline::ec2
