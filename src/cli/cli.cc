#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "cli/cli_internal.h"
#include "cli/client.h"
#include "cli/table.h"
#include "cli/yaml_json.h"

namespace lifeline {

using cli_internal::Globals;
using cli_internal::Runner;
using nlohmann::json;

namespace {

void PrintGroups(std::ostream& out, const json& groups) {
  Table t({"name", "desired", "min", "max", "active", "unhealthy",
           "in_recovery", "frozen", "shifted"});
  for (const auto& g : groups) {
    t.Row({Cell(g["name"]), Cell(g["desired"]), Cell(g["min"]), Cell(g["max"]),
           Cell(g["active"]), Cell(g["unhealthy"]), Cell(g["in_recovery"]),
           Cell(g["frozen"]), Cell(g["shifted_zones"])});
  }
  t.Print(out);
}

void PrintGroup(std::ostream& out, const json& g) {
  out << "Group:      " << Cell(g["name"]) << "\n"
      << "Capacity:   desired " << Cell(g["desired"]) << " (min "
      << Cell(g["min"]) << ", max " << Cell(g["max"]) << ")\n"
      << "Instances:  " << Cell(g["instances"]) << " (" << Cell(g["active"])
      << " active, " << Cell(g["unhealthy"]) << " unhealthy, "
      << Cell(g["in_recovery"]) << " in recovery)\n"
      << "Frozen:     " << Cell(g["frozen"]) << "\n";
  if (g.contains("active_zonal_shift") && !g["active_zonal_shift"].is_null()) {
    const json& s = g["active_zonal_shift"];
    out << "Shift:      " << Cell(s["id"]) << " away from "
        << Cell(s["away_from"]) << " until " << Cell(s["expires_at"]) << "\n";
  }
  out << "\n";
  Table t({"zone", "active", "unhealthy", "silent", "standby", "launching",
           "shifted"});
  for (auto it = g["zones"].begin(); it != g["zones"].end(); ++it) {
    const json& z = it.value();
    t.Row({it.key(), Cell(z["active"]), Cell(z["unhealthy"]), Cell(z["silent"]),
           Cell(z["standby"]), Cell(z["launching"]), Cell(z["shifted"])});
  }
  t.Print(out);
}

void PrintInstances(std::ostream& out, const json& list) {
  Table t({"id", "group", "zone", "lifecycle", "role", "health", "workflow"});
  for (const auto& i : list) {
    t.Row({Cell(i["id"]), Cell(i["group"]), Cell(i["zone"]),
           Cell(i["lifecycle"]), Cell(i["role"]), Cell(i["health"]),
           Cell(i["workflow"])});
  }
  t.Print(out);
}

void PrintEvents(std::ostream& out, const json& events) {
  for (const auto& e : events) {
    out << Cell(e["time"]) << "  " << Cell(e["type"]) << "  "
        << Cell(e["instance"]) << "  " << e.value("message", "");
    if (!e.value("rule", "").empty())
      out << "  [rule " << Cell(e["rule"]) << "]";
    out << "\n";
  }
}

void PrintInstance(std::ostream& out, const json& i) {
  out << "Instance:   " << Cell(i["id"]) << "\n"
      << "Group:      " << Cell(i["group"]) << " (" << Cell(i["role"]) << ")\n"
      << "Zone:       " << Cell(i["zone"]) << "  host " << Cell(i["host"])
      << "\n"
      << "Lifecycle:  " << Cell(i["lifecycle"]) << "\n"
      << "Health:     " << Cell(i["health"]) << "\n"
      << "Checks:     system " << Cell(i["checks"]["system"]) << ", instance "
      << Cell(i["checks"]["instance"]) << ", application "
      << Cell(i["checks"]["application"]["health"]) << "\n";
  if (i.contains("operator") && !i["operator"].is_null()) {
    out << "Operator:   " << Cell(i["operator"]["status"]) << " ("
        << Cell(i["operator"]["reason"]) << ")\n";
  }
  const json& v = i["verdict"];
  if (v.value("unhealthy", false) || v.value("suspect", false)) {
    out << "Verdict:    " << Cell(v["failure"]) << " failure; signals "
        << Cell(v["signals"]) << "; " << Cell(v["evidence"]) << "\n";
  }
  out << "Workflow:   " << Cell(i["workflow"]) << "\n";
  if (i.contains("history") && !i["history"].empty()) {
    out << "\nRecent history:\n";
    PrintEvents(out, i["history"]);
  }
}

void PrintShifts(std::ostream& out, const json& list) {
  Table t(
      {"id", "group", "away_from", "state", "source", "expires_at", "comment"});
  for (const auto& s : list) {
    t.Row({Cell(s["id"]), Cell(s["group"]), Cell(s["away_from"]),
           Cell(s["state"]), Cell(s["source"]), Cell(s["expires_at"]),
           Cell(s["comment"])});
  }
  t.Print(out);
}

void PrintActions(std::ostream& out, const json& actions) {
  Table t({"group", "zone", "instance", "action", "verdict", "rule", "reason"});
  for (const auto& a : actions) {
    t.Row({Cell(a["group"]), Cell(a["zone"]), Cell(a["instance"]),
           Cell(a["action"]), Cell(a["verdict"]), Cell(a["rule"]),
           Cell(a["reason"])});
  }
  t.Print(out);
}

Result<json> ReadSpecFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return InvalidArgument("cannot read " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool is_json = file.size() > 5 && file.substr(file.size() - 5) == ".json";
  if (is_json) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return InvalidArgument(file + ": malformed JSON");
    return j;
  }
  auto j = YamlToJson(text);
  if (!j.ok()) return j.status().Annotate(file);
  return j;
}

}  // namespace

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"lifeline: operate a Lifeline controller through its API",
               "lifeline"};
  app.require_subcommand(1);
  // Global options may follow the subcommand ("instances list -o json");
  // subcommands added below inherit this.
  app.fallthrough();
  Globals g;
  if (const char* e = std::getenv("LIFELINE_ENDPOINT")) g.endpoint = e;
  if (const char* e = std::getenv("LIFELINE_TOKEN")) g.token = e;
  if (const char* e = std::getenv("LIFELINE_STATE_DIR")) g.state_dir = e;
  if (const char* e = std::getenv("LIFELINE_CACERT")) g.ca_cert = e;
  app.add_option("-o,--output", g.output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--endpoint", g.endpoint,
                 "API endpoint (env LIFELINE_ENDPOINT)");
  app.add_option("--token", g.token,
                 "Bearer token (env LIFELINE_TOKEN; default: "
                 "<state-dir>/admin.token)");
  app.add_option("--cacert", g.ca_cert,
                 "PEM certificate to verify an https endpoint with (env "
                 "LIFELINE_CACERT)");
  app.add_option("--state-dir", g.state_dir,
                 "State directory holding admin.token (env "
                 "LIFELINE_STATE_DIR)");

  std::function<int(Runner&)> action;

  // ---- groups ----
  auto* groups = app.add_subcommand("groups", "Groups of instances");
  groups->require_subcommand(1);
  groups->add_subcommand("list", "List groups")->callback([&] {
    action = [](Runner& r) {
      return r.Show(r.client().Get("/v1/groups"),
                    [&](const json& j) { PrintGroups(r.out(), j["groups"]); });
    };
  });
  std::string name;
  auto* gget = groups->add_subcommand("get", "Show a group");
  gget->add_option("NAME", name, "Group name")->required();
  gget->callback([&] {
    action = [&](Runner& r) {
      return r.Show(r.client().Get("/v1/groups/" + name),
                    [&](const json& j) { PrintGroup(r.out(), j); });
    };
  });
  std::string file, apply_name;
  auto* apply = groups->add_subcommand("apply", "Create or replace a group");
  apply->add_option("-f,--file", file, "Spec file (.yaml, .yml or .json)")
      ->required();
  apply->add_option("--name", apply_name,
                    "Group name (default: the spec's name field)");
  apply->callback([&] {
    action = [&](Runner& r) {
      auto spec = ReadSpecFile(file);
      if (!spec.ok()) return r.Fail(spec.status());
      std::string n = apply_name;
      if (n.empty() && spec->is_object() && spec->contains("name") &&
          (*spec)["name"].is_string()) {
        n = (*spec)["name"];
      }
      if (n.empty()) {
        return r.Fail(InvalidArgument(file + ": no name field; use --name"));
      }
      return r.Show(
          r.client().Send("PUT", "/v1/groups/" + n, *spec), [&](const json& j) {
            r.out() << "group " << Cell(j["name"]) << " applied: desired "
                    << Cell(j["desired"]) << "\n";
          });
    };
  });
  int desired = 0;
  auto* setd = groups->add_subcommand("set-desired", "Set desired capacity");
  setd->add_option("NAME", name, "Group name")->required();
  setd->add_option("N", desired, "Desired capacity")->required();
  setd->callback([&] {
    action = [&](Runner& r) {
      return r.Show(
          r.client().Send("POST", "/v1/groups/" + name + "/desired-capacity",
                          {{"desired", desired}}),
          [&](const json& j) {
            r.out() << "group " << Cell(j["name"]) << ": desired "
                    << Cell(j["desired"]) << "\n";
          });
    };
  });
  auto* gdel = groups->add_subcommand("delete", "Delete an empty group");
  gdel->add_option("NAME", name, "Group name")->required();
  gdel->callback([&] {
    action = [&](Runner& r) {
      return r.Show(r.client().Delete("/v1/groups/" + name), [&](const json&) {
        r.out() << "group " << name << " deleted\n";
      });
    };
  });

  // ---- instances ----
  auto* inst = app.add_subcommand("instances", "Instances and their health");
  inst->require_subcommand(1);
  std::string f_group, f_zone, f_health, f_role;
  auto* ilist = inst->add_subcommand("list", "List instances");
  ilist->add_option("--group", f_group, "Only this group");
  ilist->add_option("--zone", f_zone, "Only this zone");
  ilist->add_option("--health", f_health, "healthy, unhealthy or suspect");
  ilist->add_option("--role", f_role, "active, replacement, retiring, standby");
  ilist->callback([&] {
    action = [&](Runner& r) {
      std::string path = WithQuery("/v1/instances", {{"group", f_group},
                                                     {"zone", f_zone},
                                                     {"health", f_health},
                                                     {"role", f_role}});
      return r.Show(r.client().Get(path), [&](const json& j) {
        PrintInstances(r.out(), j["instances"]);
      });
    };
  });
  std::string id;
  auto* iget = inst->add_subcommand("get", "Show an instance");
  iget->add_option("ID", id, "Instance id")->required();
  iget->callback([&] {
    action = [&](Runner& r) {
      return r.Show(r.client().Get("/v1/instances/" + id),
                    [&](const json& j) { PrintInstance(r.out(), j); });
    };
  });
  std::string status, reason;
  auto* ish = inst->add_subcommand("set-health", "Set an instance's health");
  ish->add_option("ID", id, "Instance id")->required();
  ish->add_option("--status", status, "healthy, unhealthy or automatic")
      ->required()
      ->check(CLI::IsMember({"healthy", "unhealthy", "automatic"}));
  ish->add_option("--reason", reason, "Why");
  ish->callback([&] {
    action = [&](Runner& r) {
      json body = {{"status", status}};
      if (!reason.empty()) body["reason"] = reason;
      return r.Show(
          r.client().Send("POST", "/v1/instances/" + id + "/health", body),
          [&](const json& j) {
            r.out() << "instance " << Cell(j["id"]) << ": health "
                    << Cell(j["health"]) << "\n";
          });
    };
  });

  // ---- shifts ----
  auto* shifts = app.add_subcommand("shifts", "Zonal shifts");
  shifts->require_subcommand(1);
  std::string s_group, s_zone, s_expires, s_comment, s_state;
  bool s_skip = false;
  auto* sstart =
      shifts->add_subcommand("start", "Shift a group away from a zone");
  sstart->add_option("--group", s_group, "Group, or \"*\" for every group")
      ->required();
  sstart->add_option("--away-from", s_zone, "Zone to shift away from")
      ->required();
  sstart->add_option("--expires-in", s_expires, "Duration, e.g. 30m (max 72h)")
      ->required();
  sstart->add_option("--comment", s_comment, "Why");
  sstart->add_flag("--skip-validation", s_skip,
                   "Start even if the other zones lack capacity");
  sstart->callback([&] {
    action = [&](Runner& r) {
      json body = {{"group", s_group},
                   {"away_from", s_zone},
                   {"expires_in", s_expires},
                   {"comment", s_comment},
                   {"skip_validation", s_skip}};
      return r.Show(
          r.client().Send("POST", "/v1/zonal-shifts", body),
          [&](const json& j) { PrintShifts(r.out(), j["zonal_shifts"]); });
    };
  });
  auto* slist = shifts->add_subcommand("list", "List zonal shifts");
  slist->add_option("--group", s_group, "Only this group");
  slist->add_option("--state", s_state, "active, expired or canceled");
  slist->callback([&] {
    action = [&](Runner& r) {
      return r.Show(
          r.client().Get(WithQuery("/v1/zonal-shifts",
                                   {{"group", s_group}, {"state", s_state}})),
          [&](const json& j) { PrintShifts(r.out(), j["zonal_shifts"]); });
    };
  });
  auto* supd =
      shifts->add_subcommand("update", "Change a shift's expiry or comment");
  supd->add_option("ID", id, "Shift id")->required();
  supd->add_option("--expires-in", s_expires, "New expiry, from now");
  supd->add_option("--comment", s_comment, "New comment");
  supd->callback([&] {
    action = [&](Runner& r) {
      json body = json::object();
      if (!s_expires.empty()) body["expires_in"] = s_expires;
      if (!s_comment.empty()) body["comment"] = s_comment;
      return r.Show(
          r.client().Send("PATCH", "/v1/zonal-shifts/" + id, body),
          [&](const json& j) { PrintShifts(r.out(), json::array({j})); });
    };
  });
  auto* scancel = shifts->add_subcommand("cancel", "Cancel a shift");
  scancel->add_option("ID", id, "Shift id")->required();
  scancel->add_option("--reason", reason, "Why");
  scancel->callback([&] {
    action = [&](Runner& r) {
      return r.Show(
          r.client().Delete(
              WithQuery("/v1/zonal-shifts/" + id, {{"reason", reason}})),
          [&](const json& j) { PrintShifts(r.out(), json::array({j})); });
    };
  });

  // ---- events ----
  auto* events = app.add_subcommand("events", "The history, or follow it live");
  bool follow = false;
  std::vector<std::string> e_instances;
  std::string e_type, e_since, e_until;
  int e_limit = 100;
  events->add_flag("-f,--follow", follow, "Stream new events as they happen");
  events->add_option("--instance", e_instances, "Only these instances");
  events->add_option("--group", f_group, "Only this group");
  events->add_option("--zone", f_zone, "Only this zone");
  events->add_option("--type", e_type, "Type prefix, e.g. recovery.");
  events->add_option("--since", e_since, "RFC 3339 time");
  events->add_option("--until", e_until, "RFC 3339 time");
  events->add_option("--limit", e_limit, "Newest N events")
      ->check(CLI::Range(1, 10000));
  events->callback([&] {
    action = [&](Runner& r) {
      std::vector<std::pair<std::string, std::string>> q = {
          {"group", f_group}, {"zone", f_zone}, {"type", e_type}};
      if (e_instances.size() == 1) q.push_back({"instance", e_instances[0]});
      auto wanted = [&](const json& e) {
        if (e_instances.size() <= 1) return true;
        for (const auto& i : e_instances) {
          if (e.value("instance", "") == i) return true;
        }
        return false;
      };
      if (follow) {
        Status st = r.client().Stream(
            WithQuery("/v1/events/stream", q), [&](const json& e) {
              if (!wanted(e)) return true;
              if (r.json_output()) {
                r.out() << e.dump() << "\n";
              } else {
                PrintEvents(r.out(), json::array({e}));
              }
              r.out().flush();
              return true;
            });
        return st.ok() ? 0 : r.Fail(st);
      }
      q.push_back({"since", e_since});
      q.push_back({"until", e_until});
      q.push_back({"limit", std::to_string(e_limit)});
      auto res = r.client().Get(WithQuery("/v1/events", q));
      if (res.ok() && e_instances.size() > 1) {
        json kept = json::array();
        for (const auto& e : (*res)["events"]) {
          if (wanted(e)) kept.push_back(e);
        }
        (*res)["events"] = kept;
      }
      return r.Show(res,
                    [&](const json& j) { PrintEvents(r.out(), j["events"]); });
    };
  });

  // ---- freeze ----
  auto* freeze = app.add_subcommand("freeze", "Freeze switches");
  freeze->require_subcommand(1);
  std::string fz_group;
  for (const char* verb : {"on", "off"}) {
    auto* sub =
        freeze->add_subcommand(verb, std::string("Turn the freeze ") + verb);
    sub->add_option("--group", fz_group, "Only this group (default: fleet)");
    sub->add_option("--reason", reason, "Why");
    bool on = std::string(verb) == "on";
    sub->callback([&, on] {
      action = [&, on](Runner& r) {
        json body = {{"frozen", on}, {"reason", reason}};
        std::string path = fz_group.empty()
                               ? "/v1/freeze"
                               : "/v1/groups/" + fz_group + "/freeze";
        return r.Show(r.client().Send("PUT", path, body), [&](const json&) {
          r.out() << (fz_group.empty() ? "fleet" : "group " + fz_group)
                  << " freeze " << (on ? "on" : "off") << "\n";
        });
      };
    });
  }
  freeze->add_subcommand("status", "Show the freeze switches")->callback([&] {
    action = [](Runner& r) {
      return r.Show(r.client().Get("/v1/freeze"), [&](const json& j) {
        r.out() << "fleet: "
                << (j.value("frozen", false) ? "frozen" : "not frozen");
        if (!j.value("reason", "").empty())
          r.out() << " (" << Cell(j["reason"]) << ")";
        r.out() << "\n";
        for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it) {
          if (!it.value().value("frozen", false)) continue;
          r.out() << "group " << it.key() << ": frozen ("
                  << Cell(it.value()["reason"]) << ")\n";
        }
      });
    };
  });

  // ---- workflows, why, preview, status ----
  app.add_subcommand("workflows", "In-flight workflows")->callback([&] {
    action = [](Runner& r) {
      return r.Show(r.client().Get("/v1/workflows"), [&](const json& j) {
        Table t({"id", "kind", "group", "instance", "zone", "state", "action"});
        for (const auto& w : j["workflows"]) {
          t.Row({Cell(w["id"]), Cell(w["kind"]), Cell(w["group"]),
                 Cell(w["instance"]), Cell(w["zone"]), Cell(w["state"]),
                 Cell(w.value("action", json()))});
        }
        t.Print(r.out());
      });
    };
  });
  auto* why =
      app.add_subcommand("why", "Why an instance was or was not repaired");
  why->add_option("ID", id, "Instance id")->required();
  why->callback([&] {
    action = [&](Runner& r) {
      return r.Show(r.client().Get("/v1/why/" + id), [&](const json& j) {
        if (!j["current"].is_null()) {
          r.out() << id << ": " << Cell(j["current"]["health"]) << ", "
                  << Cell(j["current"]["lifecycle"]) << ", workflow "
                  << Cell(j["current"]["workflow"]) << "\n";
        } else {
          r.out() << id << ": no longer managed\n";
        }
        r.out() << "\nDecisions and refusals (newest last):\n";
        PrintEvents(r.out(), j["events"]);
        if (!j["planned"].empty()) {
          r.out() << "\nWhat would happen now:\n";
          PrintActions(r.out(), j["planned"]);
        }
      });
    };
  });
  app.add_subcommand("preview", "Dry run: what would the controller do now")
      ->callback([&] {
        action = [](Runner& r) {
          return r.Show(r.client().Get("/v1/preview"), [&](const json& j) {
            if (j["actions"].empty()) {
              r.out() << "nothing to do\n";
            } else {
              PrintActions(r.out(), j["actions"]);
            }
          });
        };
      });
  cli_internal::ZoneOptions zone_options;
  cli_internal::AddZoneCommands(app, zone_options, action);
  app.add_subcommand("status", "Fleet summary")->callback([&] {
    action = [](Runner& r) {
      return r.Show(r.client().Get("/v1/status"), [&](const json& j) {
        r.out() << "Ready:       " << Cell(j["ready"]) << "\n"
                << "Frozen:      " << Cell(j["fleet_frozen"]) << "\n"
                << "Panic:       " << Cell(j["fleet_panic"])
                << "   Partitioned: " << Cell(j["partitioned"]) << "\n"
                << "Instances:   " << Cell(j["instances"]) << " ("
                << Cell(j["unhealthy"]) << " unhealthy, " << Cell(j["suspect"])
                << " suspect)\n"
                << "Workflows:   " << Cell(j["workflows"]) << "\n"
                << "Zonal shifts:"
                << " " << Cell(j["active_zonal_shifts"]) << " active\n\n";
        PrintGroups(r.out(), j["groups"]);
      });
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? 0 : 2;
  }
  if (!action) {
    err << app.help();
    return 2;
  }
  Runner runner(g, out, err);
  return action(runner);
}

}  // namespace lifeline
