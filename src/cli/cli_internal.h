// Internal to the lifeline CLI: global options, the Runner that performs
// one command against the API, and the command groups defined outside
// cli.cc (cli_zones.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <cctype>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "cli/client.h"

namespace lifeline::cli_internal {

using nlohmann::json;

struct Globals {
  std::string output = "table";
  std::string endpoint = "http://127.0.0.1:9440";
  std::string token;
  std::string state_dir = "./state";
  std::string ca_cert;
};

// Reads <state_dir>/admin.token, trimmed; "" when absent.
inline std::string StateDirToken(const std::string& dir) {
  std::ifstream in(dir + "/admin.token");
  if (!in) return "";
  std::string token;
  std::getline(in, token);
  while (!token.empty() &&
         std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  return token;
}

class Runner {
 public:
  Runner(const Globals& g, std::ostream& out, std::ostream& err)
      : g_(g),
        out_(out),
        err_(err),
        client_(g.endpoint,
                g.token.empty() ? StateDirToken(g.state_dir) : g.token,
                g.ca_cert) {}

  bool json_output() const { return g_.output == "json"; }
  ApiClient& client() { return client_; }
  std::ostream& out() { return out_; }

  // Prints the error of a failed call; returns the exit code.
  int Fail(const Status& st) {
    err_ << "error: " << st.message() << "\n";
    return 1;
  }

  // Runs a call; prints JSON, or the table `print` makes of it.
  int Show(const Result<json>& r,
           const std::function<void(const json&)>& print) {
    if (!r.ok()) return Fail(r.status());
    if (json_output()) {
      out_ << r->dump(2) << "\n";
    } else {
      print(*r);
    }
    return 0;
  }

 private:
  const Globals& g_;
  std::ostream& out_;
  std::ostream& err_;
  ApiClient client_;
};

// The command a parse selected; RunCli runs it with a Runner.
using Action = std::function<int(Runner&)>;

// Option values of the zone commands; must outlive the parse.
struct ZoneOptions {
  std::string group, zone, duration, start_at, comment, id;
};

// lifeline autoshift; lifeline practice-runs start|list|cancel.
void AddZoneCommands(CLI::App& app, ZoneOptions& o, Action& action);

}  // namespace lifeline::cli_internal
