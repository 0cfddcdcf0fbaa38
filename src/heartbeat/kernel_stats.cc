#include "heartbeat/kernel_stats.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace lifeline::heartbeat {

namespace {

bool ReadAll(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// Whitespace-separated fields of one line.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t b = line.find_first_not_of(" \t\r", i);
    if (b == std::string_view::npos) break;
    size_t e = line.find_first_of(" \t\r", b);
    if (e == std::string_view::npos) e = line.size();
    out.push_back(line.substr(b, e - b));
    i = e;
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// A whole decimal field (no sign, no trailing bytes, no overflow).
Result<uint64_t> Counter(std::string_view field, std::string_view where,
                         std::string_view name) {
  uint64_t v = 0;
  auto [end, ec] =
      std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size()) {
    return InvalidArgument("heartbeat: parse " + std::string(where) + ": " +
                           std::string(name) + " '" + std::string(field) +
                           "' is not a counter");
  }
  return v;
}

}  // namespace

Result<uint64_t> ParseSnmpUdpRcvbufErrors(std::string_view snmp,
                                          std::string_view where) {
  const std::string at = "heartbeat: parse " + std::string(where) + ": ";
  std::vector<std::string_view> names;  // the "Udp:" header row
  bool have_header = false;
  for (std::string_view line : Lines(snmp)) {
    std::vector<std::string_view> row = Fields(line);
    if (row.empty() || row[0] != "Udp:") continue;
    if (!have_header) {
      names = std::move(row);
      have_header = true;
      continue;
    }
    if (row.size() != names.size()) {
      return InvalidArgument(
          at + "the Udp values row has " + std::to_string(row.size() - 1) +
          " fields, the header names " + std::to_string(names.size() - 1));
    }
    for (size_t i = 1; i < names.size(); ++i) {
      if (names[i] == "RcvbufErrors") {
        return Counter(row[i], where, "Udp RcvbufErrors");
      }
    }
    return NotFound(at + "no RcvbufErrors column in the Udp section");
  }
  if (have_header) return InvalidArgument(at + "Udp section has no values row");
  return NotFound(at + "no Udp section");
}

Result<uint64_t> ParseSnmp6UdpRcvbufErrors(std::string_view snmp6,
                                           std::string_view where) {
  for (std::string_view line : Lines(snmp6)) {
    std::vector<std::string_view> row = Fields(line);
    if (row.empty() || row[0] != "Udp6RcvbufErrors") continue;
    if (row.size() != 2) {
      return InvalidArgument("heartbeat: parse " + std::string(where) +
                             ": Udp6RcvbufErrors line has " +
                             std::to_string(row.size() - 1) +
                             " values, expected 1");
    }
    return Counter(row[1], where, "Udp6RcvbufErrors");
  }
  return NotFound("heartbeat: parse " + std::string(where) +
                  ": no Udp6RcvbufErrors line");
}

Result<uint64_t> ReadUdpRcvbufErrors(const std::string& proc_net) {
  uint64_t total = 0;
  bool any = false;
  // A file that is missing or lacks the counter is "not available" (a
  // kernel without IPv6 has no snmp6); one that is there but garbled is an
  // error, so a wrong number is never reported.
  auto add = [&](const std::string& path, auto parse) -> Status {
    std::string text;
    if (!ReadAll(path, &text)) return Status::Ok();
    Result<uint64_t> v = parse(text, path);
    if (v.ok()) {
      total += *v;
      any = true;
      return Status::Ok();
    }
    return v.status().code() == StatusCode::kNotFound ? Status::Ok()
                                                      : v.status();
  };
  const std::string snmp = proc_net + "/snmp";
  const std::string snmp6 = proc_net + "/snmp6";
  LIFELINE_RETURN_IF_ERROR(add(snmp, ParseSnmpUdpRcvbufErrors));
  LIFELINE_RETURN_IF_ERROR(add(snmp6, ParseSnmp6UdpRcvbufErrors));
  if (!any) {
    return NotFound("heartbeat: read UdpRcvbufErrors from " + snmp + " and " +
                    snmp6 + ": not available");
  }
  return total;
}

}  // namespace lifeline::heartbeat
