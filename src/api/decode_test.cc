#include "api/decode.h"

#include <gtest/gtest.h>

#include "api/problem.h"
#include "api/routes.h"

namespace lifeline {
namespace {

using nlohmann::json;

GroupSpec Sample() {
  GroupSpec g;
  g.name = "web";
  g.desired = 4;
  g.min = 1;
  g.max = 8;
  g.zones = {"a", "b"};
  g.launch.image = "img";
  g.launch.volumes = {{"/dev/sdf", 20, true, true}};
  g.launch.tags = {{"team", "core"}};
  g.ladder.application = {{RecoveryAction::kReboot, 2, hours(1), minutes(3)}};
  g.safety.dry_run = true;
  g.impaired_zone_behavior = ImpairedZoneBehavior::kIgnoreUnhealthy;
  g.autoshift.enabled = true;
  return g;
}

std::string Error(const Status& s) { return s.message(); }

TEST(DecodeGroupSpec, RoundTripsThroughItsJsonForm) {
  GroupSpec g = Sample();
  auto back = DecodeGroupSpec(EncodeGroupSpec(g).dump(), "web");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, g);
}

TEST(DecodeGroupSpec, LeavesDefaultsForOmittedFields) {
  auto g =
      DecodeGroupSpec(R"({"desired": 2, "max": 3, "zones": ["a"]})", "web");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->name, "web");
  EXPECT_EQ(g->ladder, RecoveryLadder::Defaults());
  EXPECT_EQ(g->grace_period, GroupSpec().grace_period);
}

TEST(DecodeGroupSpec, NamesTheFieldThatIsWrong) {
  auto err = [](const std::string& body) {
    auto g = DecodeGroupSpec(body, "web");
    EXPECT_FALSE(g.ok()) << body;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
    return g.ok() ? std::string() : Error(g.status());
  };
  EXPECT_NE(err("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(err(R"({"desired": 1e999})").find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(err("42").find("expected a JSON object, got an integer"),
            std::string::npos);
  EXPECT_NE(err(R"({"desird": 1})").find("field desird: unknown field"),
            std::string::npos);
  EXPECT_NE(err(R"({"desired": "1"})")
                .find("field desired: expected an integer, got a string"),
            std::string::npos);
  EXPECT_NE(err(R"({"desired": 1e3})").find("got a number with a fraction"),
            std::string::npos);
  EXPECT_NE(err(R"({"desired": 99999999999})").find("out of range"),
            std::string::npos);
  EXPECT_NE(err(R"({"launch": {"volumes": [{"device": "d", "size_gib": 0}]}})")
                .find("launch.volumes[0].size_gib"),
            std::string::npos);
  EXPECT_NE(err(R"({"ladder": {"system": [{"action": "pray"}]}})")
                .find("ladder.system[0].action: \"pray\""),
            std::string::npos);
  EXPECT_NE(err(R"({"grace_period": 60})").find("duration string"),
            std::string::npos);
  EXPECT_NE(err(R"({"grace_period": "soon"})").find("is not a duration"),
            std::string::npos);
  EXPECT_NE(err(R"({"zones": ["a", 1]})").find("zones[1]: expected a string"),
            std::string::npos);
  EXPECT_NE(err(R"({"launch": {"tags": {"a": 1}}})").find("launch.tags.a"),
            std::string::npos);
  EXPECT_NE(err(R"({"impaired_zone_behavior": "Panic"})")
                .find("impaired_zone_behavior"),
            std::string::npos);
  EXPECT_NE(err(R"({"name": "api"})").find("does not match"),
            std::string::npos);
  // GroupSpec::Validate runs too.
  EXPECT_NE(err(R"({"desired": 5, "max": 3, "zones": ["a"]})").find("max"),
            std::string::npos);
  EXPECT_FALSE(DecodeGroupSpec("{}", "bad name!").ok());
}

TEST(DecodeRequests, DesiredCapacity) {
  EXPECT_EQ(*DecodeDesiredCapacity(R"({"desired": 3})"), 3);
  EXPECT_FALSE(DecodeDesiredCapacity("{}").ok());
  EXPECT_FALSE(DecodeDesiredCapacity(R"({"desired": -1})").ok());
  EXPECT_FALSE(DecodeDesiredCapacity(R"({"desired": null})").ok());
  EXPECT_FALSE(DecodeDesiredCapacity(R"({"desired": 1, "x": 1})").ok());
}

TEST(DecodeRequests, InstanceHealth) {
  auto h = DecodeInstanceHealth(R"({"status": "unhealthy", "reason": "r"})");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->healthy, std::optional<bool>(false));
  EXPECT_EQ(h->reason, "r");
  EXPECT_EQ(DecodeInstanceHealth(R"({"status": "healthy"})")->healthy,
            std::optional<bool>(true));
  EXPECT_FALSE(DecodeInstanceHealth(R"({"status": "automatic"})")->healthy);
  EXPECT_FALSE(DecodeInstanceHealth(R"({"status": "ok"})").ok());
  EXPECT_FALSE(DecodeInstanceHealth(R"({"reason": "r"})").ok());
}

TEST(DecodeRequests, Freeze) {
  auto f = DecodeFreeze(R"({"frozen": true, "reason": "deploy"})");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->frozen);
  EXPECT_FALSE(DecodeFreeze(R"({"frozen": 1})").ok());
  EXPECT_FALSE(DecodeFreeze(R"({})").ok());
}

TEST(DecodeRequests, ShiftStartAndUpdate) {
  auto s = DecodeShiftStart(
      R"({"group": "*", "away_from": "a", "expires_in": "30m"})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->group, "*");
  EXPECT_EQ(s->expires_in, minutes(30));
  EXPECT_FALSE(s->skip_validation);
  auto too_long = DecodeShiftStart(
      R"({"group": "web", "away_from": "a", "expires_in": "73h"})");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(Error(too_long.status()).find("expires_in"), std::string::npos);
  EXPECT_FALSE(DecodeShiftStart(
                   R"({"group": "web", "away_from": "a", "expires_in": "30s"})")
                   .ok());
  EXPECT_FALSE(
      DecodeShiftStart(R"({"group": "web", "expires_in": "1h"})").ok());
  auto u = DecodeShiftUpdate(R"({"comment": "c"})");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->comment, std::optional<std::string>("c"));
  EXPECT_FALSE(u->expires_in);
  EXPECT_FALSE(DecodeShiftUpdate("{}").ok());
}

TEST(DecodeRequests, PracticeRunStart) {
  auto p = DecodePracticeRunStart(
      R"({"group": "web", "zone": "a", "duration": "20m",
          "start_at": "2026-01-01T10:00:00Z", "max_unhealthy_ratio": 0.2})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->duration, minutes(20));
  ASSERT_TRUE(p->start_at.has_value());
  EXPECT_EQ(FormatWallTime(*p->start_at), "2026-01-01T10:00:00.000Z");
  EXPECT_EQ(p->max_unhealthy_ratio, 0.2);
  EXPECT_EQ(p->min_serving_ratio, 0.9);  // default
  auto dflt = DecodePracticeRunStart(R"({"group": "web", "zone": "a"})");
  ASSERT_TRUE(dflt.ok());
  EXPECT_FALSE(dflt->start_at.has_value());
  EXPECT_EQ(dflt->duration, minutes(30));
  for (const char* bad : {
           R"({"group": "web"})",
           R"({"zone": "a"})",
           R"({"group": "web", "zone": "a", "duration": "5h"})",
           R"({"group": "web", "zone": "a", "start_at": "tomorrow"})",
           R"({"group": "web", "zone": "a", "min_serving_ratio": 1.5})",
           R"({"group": "web", "zone": "a", "extra": 1})",
           R"({"group": "w b", "zone": "a"})",
           R"([1])",
       }) {
    auto r = DecodePracticeRunStart(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_NE(Error(DecodePracticeRunStart(
                      R"({"group": "web", "zone": "a", "start_at": "x"})")
                      .status())
                .find("start_at"),
            std::string::npos);
}

TEST(DecodeRequests, EventsQuery) {
  QueryParams p{{"instance", "i-1"}, {"type", "recovery."},
                {"limit", "5"},      {"since", "2026-01-01T00:00:00Z"},
                {"after", "7"},      {"kind", "decision"}};
  auto q = DecodeEventsQuery(p);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->instance, std::optional<std::string>("i-1"));
  EXPECT_EQ(q->type_prefix, std::optional<std::string>("recovery."));
  EXPECT_EQ(q->limit, 5u);
  EXPECT_EQ(q->after_seq, 7u);
  EXPECT_EQ(q->kind, std::optional<EventKind>(EventKind::kDecision));
  EXPECT_TRUE(q->since.has_value());
  EXPECT_EQ(DecodeEventsQuery({})->limit, 100u);
  EXPECT_FALSE(DecodeEventsQuery({{"limit", "10001"}}).ok());
  EXPECT_FALSE(DecodeEventsQuery({{"until", "2999-01-01T00:00:00Z"}}).ok());
  EXPECT_FALSE(
      DecodeEventsQuery({{"since", "2026-01-01T00:00:00+01:00"}}).ok());
  EXPECT_FALSE(DecodeEventsQuery({{"since", "2026-1-01T00:00:00Z"}}).ok());
  EXPECT_TRUE(DecodeEventsQuery({{"since", "2026-01-01T00:00:00.5Z"}}).ok());
  EXPECT_FALSE(DecodeEventsQuery({{"after", "-1"}}).ok());
  EXPECT_FALSE(DecodeEventsQuery({{"group", "a"}, {"group", "b"}}).ok());
  EXPECT_FALSE(DecodeEventsQuery({{"since", "2026-02-01T00:00:00Z"},
                                  {"until", "2026-01-01T00:00:00Z"}})
                   .ok());
}

TEST(DecodeRequests, InstanceFilter) {
  auto f = DecodeInstanceFilter({{"group", "web"}, {"health", "unhealthy"}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->health, std::optional<std::string>("unhealthy"));
  EXPECT_FALSE(DecodeInstanceFilter({{"role", "boss"}}).ok());
  EXPECT_FALSE(DecodeInstanceFilter({{"limit", "1"}}).ok());
}

TEST(Problem, MapsStatusCodesAndNeverThrowsOnBadUtf8) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  auto j = ProblemJson(NotFound("instance \xff\xfe"));
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["type"], "urn:lifeline:problem:not-found");
  EXPECT_FALSE(DumpJson(j).empty());
}

TEST(Routes, PathsMatchTheirTemplates) {
  EXPECT_TRUE(PathMatches("/v1/groups/{name}", "/v1/groups/web"));
  EXPECT_FALSE(PathMatches("/v1/groups/{name}", "/v1/groups/"));
  EXPECT_FALSE(PathMatches("/v1/groups/{name}", "/v1/groups/web/freeze"));
  EXPECT_TRUE(PathMatches("/v1/groups/{name}/freeze", "/v1/groups/web/freeze"));
  EXPECT_EQ(PathRegex("/v1/why/{id}"), "/v1/why/([^/]+)");
  EXPECT_EQ(PathRegex("/openapi.yaml"), "/openapi\\.yaml");
}

}  // namespace
}  // namespace lifeline
