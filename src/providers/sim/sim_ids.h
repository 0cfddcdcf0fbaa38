// Identifiers of simulated objects: a prefix and a 1-based serial number,
// zero-padded to six digits ("sim-000001", "vol-000042", "snap-001000").
// Larger serials simply grow ("sim-1000000"). Internal to the sim provider.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lifeline::sim_internal {

inline std::string FormatSerialId(std::string_view prefix, uint64_t serial) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + serial % 10);
    serial /= 10;
  } while (serial > 0);
  while (n < 6) digits[n++] = '0';
  std::string out;
  out.reserve(prefix.size() + static_cast<size_t>(n));
  out.append(prefix);
  while (n > 0) out.push_back(digits[--n]);
  return out;
}

// The serial of an id in the exact form FormatSerialId produces; nullopt for
// anything else (wrong prefix, too few digits, extra leading zeros).
inline std::optional<uint64_t> ParseSerialId(std::string_view prefix,
                                             std::string_view id) {
  if (id.size() < prefix.size() + 6 || id.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  std::string_view digits = id.substr(prefix.size());
  if (digits.size() > 6 && digits[0] == '0') return std::nullopt;
  if (digits.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace lifeline::sim_internal
