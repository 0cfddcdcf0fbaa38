#include "heartbeat/kernel_stats.h"

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
}  // namespace

bool ParseSnmpUdpRcvbufErrors(const std::string& snmp, uint64_t* out) {
  std::istringstream in(snmp);
  std::string line;
  std::vector<std::string> names;
  while (std::getline(in, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    std::istringstream fields(line.substr(5));
    std::vector<std::string> row;
    for (std::string f; fields >> f;) row.push_back(f);
    if (names.empty()) {
      names = row;  // the first "Udp:" row names the columns
      continue;
    }
    for (size_t i = 0; i < names.size() && i < row.size(); ++i) {
      if (names[i] == "RcvbufErrors") {
        *out = std::stoull(row[i]);
        return true;
      }
    }
    return false;
  }
  return false;
}

bool ParseSnmp6UdpRcvbufErrors(const std::string& snmp6, uint64_t* out) {
  std::istringstream in(snmp6);
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "Udp6RcvbufErrors") {
      *out = value;
      return true;
    }
  }
  return false;
}

Result<uint64_t> ReadUdpRcvbufErrors(const std::string& proc_net) {
  std::string text;
  uint64_t v4 = 0, v6 = 0;
  bool have4 =
      ReadAll(proc_net + "/snmp", &text) && ParseSnmpUdpRcvbufErrors(text, &v4);
  bool have6 = ReadAll(proc_net + "/snmp6", &text) &&
               ParseSnmp6UdpRcvbufErrors(text, &v6);
  if (!have4 && !have6) {
    return NotFound("heartbeat: read UdpRcvbufErrors from " + proc_net +
                    "/snmp{,6}: not available");
  }
  return v4 + v6;
}

}  // namespace lifeline::heartbeat
