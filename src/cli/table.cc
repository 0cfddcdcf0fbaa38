#include "cli/table.h"

#include <algorithm>
#include <cctype>

namespace lifeline {

Table::Table(std::vector<std::string> headers) {
  for (auto& h : headers) {
    for (auto& c : h) c = static_cast<char>(std::toupper(c));
  }
  rows_.push_back(std::move(headers));
}

void Table::Row(std::vector<std::string> cells) {
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& r : rows_) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows_) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size())
        line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

std::string Cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return s.empty() ? "-" : s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string out;
    // Appended piece by piece: GCC 12 -O3 reports a false -Wrestrict for
    // `const char* + std::string` (GCC bug 105651).
    for (const auto& e : v) {
      if (!out.empty()) out += ',';
      out += Cell(e);
    }
    return out.empty() ? "-" : out;
  }
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v.get<double>());
    return buf;
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lifeline
