// lifeline autoshift; lifeline practice-runs start|list|cancel.
#include "cli/cli_internal.h"
#include "cli/table.h"

namespace lifeline::cli_internal {

namespace {

void PrintAutoshift(std::ostream& out, const json& groups) {
  Table t({"group", "enabled", "phase", "zone", "signal", "shift", "for",
           "silent_by_zone"});
  for (const auto& g : groups) {
    std::string silent;
    if (g.contains("zones") && g["zones"].is_object()) {
      for (const auto& [zone, s] : g["zones"].items()) {
        if (!silent.empty()) silent += " ";
        silent += zone + "=" + Cell(s["silent"]) + "/" + Cell(s["instances"]);
      }
    }
    t.Row({Cell(g["group"]), Cell(g["enabled"]), Cell(g["phase"]),
           Cell(g["zone"]), Cell(g["signal"]), Cell(g["shift_id"]),
           Cell(g["in_phase_for"]), silent});
  }
  t.Print(out);
}

void PrintRuns(std::ostream& out, const json& runs) {
  Table t(
      {"id", "group", "zone", "state", "duration", "started_at", "outcome"});
  for (const auto& p : runs) {
    t.Row({Cell(p["id"]), Cell(p["group"]), Cell(p["zone"]), Cell(p["state"]),
           Cell(p["duration"]), Cell(p["started_at"]), Cell(p["outcome"])});
  }
  t.Print(out);
}

}  // namespace

void AddZoneCommands(CLI::App& app, ZoneOptions& o, Action& action) {
  app.add_subcommand("autoshift", "The zone-impairment detector, per group")
      ->callback([&] {
        action = [](Runner& r) {
          return r.Show(r.client().Get("/v1/autoshift"), [&](const json& j) {
            PrintAutoshift(r.out(), j["groups"]);
          });
        };
      });

  auto* runs = app.add_subcommand("practice-runs", "Practice zonal shifts");
  runs->require_subcommand(1);
  auto* start = runs->add_subcommand(
      "start", "Shift a group away from a zone on purpose, for a while");
  start->add_option("--group", o.group, "Group")->required();
  start->add_option("--zone", o.zone, "Zone to practice without")->required();
  start->add_option("--duration", o.duration, "e.g. 30m (max 4h)");
  start->add_option("--start-at", o.start_at, "RFC 3339 time (default: now)");
  start->add_option("--comment", o.comment, "Why");
  start->callback([&] {
    action = [&](Runner& r) {
      json body = {{"group", o.group}, {"zone", o.zone}};
      if (!o.duration.empty()) body["duration"] = o.duration;
      if (!o.start_at.empty()) body["start_at"] = o.start_at;
      if (!o.comment.empty()) body["comment"] = o.comment;
      return r.Show(
          r.client().Send("POST", "/v1/practice-runs", body),
          [&](const json& j) { PrintRuns(r.out(), json::array({j})); });
    };
  });
  auto* list = runs->add_subcommand("list", "List practice runs");
  list->add_option("--group", o.group, "Only this group");
  list->callback([&] {
    action = [&](Runner& r) {
      return r.Show(
          r.client().Get(WithQuery("/v1/practice-runs", {{"group", o.group}})),
          [&](const json& j) { PrintRuns(r.out(), j["practice_runs"]); });
    };
  });
  auto* cancel = runs->add_subcommand("cancel", "Cancel a practice run");
  cancel->add_option("ID", o.id, "Practice run id")->required();
  cancel->callback([&] {
    action = [&](Runner& r) {
      return r.Show(
          r.client().Delete("/v1/practice-runs/" + o.id),
          [&](const json& j) { PrintRuns(r.out(), json::array({j})); });
    };
  });
}

}  // namespace lifeline::cli_internal
