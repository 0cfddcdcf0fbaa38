// Table: aligned plain-text columns for the CLI's "-o table" output.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace lifeline {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void Row(std::vector<std::string> cells);
  // Headers in upper case, columns padded to the widest cell.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// A JSON value as one table cell: strings bare, null as "-", arrays
// comma-joined, numbers as JSON.
std::string Cell(const nlohmann::json& v);

}  // namespace lifeline
