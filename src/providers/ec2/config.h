// Ec2Config: everything an Ec2Provider needs to reach one region of EC2.
//
// Build it by hand (the daemon's YAML), or from the standard AWS
// environment with FromEnvironment():
//   region     AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile
//              in the shared config file
//   endpoint   AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, then `endpoint_url`
//              of the profile; default https://ec2.<region>.amazonaws.com
//   profile    AWS_PROFILE (default "default")
//   files      AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
//              AWS_CONFIG_FILE (~/.aws/config)
//   credentials, first found: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
//              (+ AWS_SESSION_TOKEN); the profile's keys in the credentials
//              file, then in the config file; else IMDSv2 at run time
//              (endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT), unless
//              AWS_EC2_METADATA_DISABLED=true.
//
// Thread-safety: a value.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "providers/ec2/credentials.h"
#include "providers/ec2/retry.h"

namespace lifeline::ec2 {

enum class CredentialsSource {
  kStatic,  // `credentials` below (from the environment, a profile or YAML)
  kImds,    // the instance metadata service, refreshed before expiry
};

struct Ec2Config {
  std::string region;
  std::string endpoint;  // empty: https://ec2.<region>.amazonaws.com
  std::string profile = "default";
  CredentialsSource credentials_source = CredentialsSource::kStatic;
  AwsCredentials credentials;  // used when credentials_source == kStatic
  // Where the static credentials came from, for messages ("environment",
  // "profile default in /root/.aws/credentials", "config").
  std::string credentials_origin = "config";
  std::string imds_endpoint = "http://169.254.169.254";

  Duration connect_timeout = seconds(3);
  Duration request_timeout = seconds(20);  // one HTTP exchange
  RetryPolicy retry;
  int max_in_flight = 4;  // HTTP worker threads
  // Waits for a state (stopped, snapshot completed, volume available)
  // poll every poll_interval and give up after wait_timeout.
  Duration poll_interval = seconds(2);
  Duration wait_timeout = minutes(15);
  // DescribeInstances page size (5..1000).
  int page_size = 1000;
  uint64_t jitter_seed = 0x6c6966656c696e65;  // any value; fixed = replayable
  std::string api_version = "2016-11-15";

  // Reads the standard AWS environment (see the file comment).
  // kInvalidArgument naming the variable or file when something is wrong
  // (no region, a profile that does not exist, half a key pair).
  static Result<Ec2Config> FromEnvironment();
  static Result<Ec2Config> FromEnvironment(const EnvLookup& env);

  // For the daemon's `ec2:` settings block: string keys layered over the
  // environment (a setting wins over its environment variable).
  //   region, endpoint, profile, imds_endpoint   as the variables above
  //   credentials   auto (default) | environment | profile | imds
  //   connect_timeout, request_timeout, initial_backoff, max_backoff,
  //   eventual_consistency_window, poll_interval, wait_timeout
  //                 durations ("250ms", "3s", "15m")
  //   max_attempts, max_in_flight, page_size   integers
  // Secrets are never read from settings: use the environment, a profile
  // or IMDS. kInvalidArgument naming the key for an unknown key or a bad
  // value, or when the chosen credentials source has none.
  static Result<Ec2Config> FromSettings(
      const std::map<std::string, std::string>& settings,
      const EnvLookup& env = ProcessEnvironment());

  // The endpoint to POST to.
  std::string EndpointUrl() const;
  // kInvalidArgument naming the first bad field.
  Status Validate() const;
};

}  // namespace lifeline::ec2
