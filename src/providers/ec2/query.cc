#include "providers/ec2/query.h"

#include <openssl/evp.h>

namespace lifeline::ec2 {

Ec2Query& Ec2Query::Set(std::string key, std::string value) {
  params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Ec2Query& Ec2Query::SetList(std::string_view prefix,
                            const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    Set(std::string(prefix) + "." + std::to_string(i + 1), values[i]);
  }
  return *this;
}

Ec2Query& Ec2Query::AddFilter(std::string_view name,
                              const std::vector<std::string>& values) {
  std::string prefix = "Filter." + std::to_string(++filters_);
  Set(prefix + ".Name", std::string(name));
  return SetList(prefix + ".Value", values);
}

Ec2Query& Ec2Query::Replace(std::string_view key, std::string value) {
  for (auto& [k, v] : params_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  return Set(std::string(key), std::move(value));
}

std::string Ec2Query::Get(std::string_view key) const {
  for (const auto& [k, v] : params_) {
    if (k == key) return v;
  }
  return "";
}

std::string Ec2Query::Body(std::string_view version) const {
  std::string body =
      "Action=" + FormEncode(action_) + "&Version=" + FormEncode(version);
  for (const auto& [k, v] : params_) {
    body += '&';
    body += FormEncode(k);
    body += '=';
    body += FormEncode(v);
  }
  return body;
}

std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                      c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';  // form encoding, as botocore sends it
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string Base64Encode(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

}  // namespace lifeline::ec2
