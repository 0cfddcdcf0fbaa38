// Ec2Query: the parameters of one EC2 Query API request (Action=...,
// InstanceId.1=..., Filter.1.Name=...), encoded as the
// application/x-www-form-urlencoded body of a POST.
//
// Thread-safety: a value; not synchronised.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeline::ec2 {

class Ec2Query {
 public:
  explicit Ec2Query(std::string action) : action_(std::move(action)) {}

  const std::string& action() const { return action_; }

  // Adds key=value. Keys may repeat only if the caller means it.
  Ec2Query& Set(std::string key, std::string value);
  // prefix.1=values[0], prefix.2=values[1], ...
  Ec2Query& SetList(std::string_view prefix,
                    const std::vector<std::string>& values);
  // Filter.N.Name=name, Filter.N.Value.M=values[M-1]; N counts filters.
  Ec2Query& AddFilter(std::string_view name,
                      const std::vector<std::string>& values);
  // Replaces (or adds) key's value; used for NextToken when paging.
  Ec2Query& Replace(std::string_view key, std::string value);

  // The value of key, or "" when absent.
  std::string Get(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& params() const {
    return params_;
  }

  // "Action=<action>&Version=<version>&k=v..." with every key and value
  // form-encoded (see FormEncode).
  std::string Body(std::string_view version) const;

 private:
  std::string action_;
  std::vector<std::pair<std::string, std::string>> params_;
  int filters_ = 0;
};

// application/x-www-form-urlencoded: A-Z a-z 0-9 - _ . ~ are kept, a space
// becomes '+', every other byte is percent-encoded. This is byte for byte
// what botocore sends, so verifiers that re-encode the parsed form (moto)
// compute the same SigV4 payload hash as AWS, which hashes the raw body.
std::string FormEncode(std::string_view s);
// Standard base64 (EC2's UserData encoding).
std::string Base64Encode(std::string_view s);

}  // namespace lifeline::ec2
