// The API against a real server on loopback, backed by a real Controller on
// the sim provider (FakeBackend): every endpoint's happy path, and bad
// requests that must get the right 4xx and change nothing.
#include "api/api_server.h"

#include <gtest/gtest.h>

#include <atomic>

#include "api/api_test_util.h"
#include "api/decode.h"
#include "api/fake_backend.h"

namespace lifeline {
namespace {

using nlohmann::json;

constexpr const char* kAdmin = "admin-token";
constexpr const char* kOperator = "operator-token";
constexpr const char* kViewer = "viewer-token";

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.port = 0;
    o.stream_keepalive = std::chrono::milliseconds(100);
    server_ = std::make_unique<ApiServer>(backend_, o);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  HttpReply Do(const std::string& method, const std::string& path,
               const std::string& token = kAdmin,
               const std::string& body = "") {
    return Call(server_->port(), method, path, token, body);
  }

  static std::string WebJson(int desired) {
    return EncodeGroupSpec(FakeBackend::Web(desired)).dump();
  }

  void ApplyWeb(int desired) {
    auto r = Do("PUT", "/v1/groups/web", kAdmin, WebJson(desired));
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }

  // Applies an empty "web" and waits until it is adopted: from then on
  // nothing appends events unless a test acts.
  void ApplyQuietWeb() {
    ApplyWeb(0);
    ASSERT_TRUE(WaitUntil([&] {
      return !Do("GET", "/v1/events?type=group.adopted", kViewer)
                  .json["events"]
                  .empty();
    }));
  }

  // Applies "web" and waits until `n` instances are running.
  void Fleet(int n) {
    ApplyWeb(n);
    ASSERT_TRUE(WaitUntil([&] {
      auto r = Do("GET", "/v1/instances?group=web", kViewer);
      if (r.status != 200 || r.json["count"] != n) return false;
      for (const auto& i : r.json["instances"]) {
        if (i["lifecycle"] != "running") return false;
      }
      return true;
    })) << Do("GET", "/v1/instances", kViewer).body;
  }

  // A 4xx problem whose detail mentions `needle`.
  static void ExpectProblem(const HttpReply& r, int status,
                            const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json") << r.body;
    EXPECT_EQ(r.json.value("status", 0), status) << r.body;
    EXPECT_NE(r.json.value("detail", "").find(needle), std::string::npos)
        << "detail: " << r.json.value("detail", "") << " lacks " << needle;
  }

  size_t EventCount() {
    auto r = Do("GET", "/v1/events?limit=10000", kViewer);
    return r.json["events"].size();
  }

  FakeBackend backend_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, HealthReadinessAndOpenApiNeedNoToken) {
  EXPECT_EQ(Do("GET", "/healthz", "").status, 200);
  EXPECT_TRUE(
      WaitUntil([&] { return Do("GET", "/readyz", "").status == 200; }));
  auto spec = Do("GET", "/openapi.yaml", "");
  EXPECT_EQ(spec.status, 200);
  EXPECT_NE(spec.body.find("/v1/groups/{name}"), std::string::npos);
  auto metrics = Do("GET", "/metrics", kViewer);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("lifeline_fake_backend_up 1"), std::string::npos);
}

TEST_F(ApiServerTest, TokensAreCheckedAndRolesEnforced) {
  ExpectProblem(Do("GET", "/v1/groups", ""), 401, "missing bearer token");
  ExpectProblem(Do("GET", "/v1/groups", "nope"), 401, "invalid bearer token");
  ExpectProblem(Do("GET", "/metrics", ""), 401, "bearer");
  EXPECT_EQ(Do("GET", "/v1/groups", kViewer).status, 200);
  size_t before = EventCount();
  ExpectProblem(Do("PUT", "/v1/groups/web", kViewer, WebJson(3)), 403,
                "needs the admin role");
  ExpectProblem(Do("PUT", "/v1/groups/web", kOperator, WebJson(3)), 403,
                "this token is operator");
  ExpectProblem(Do("PUT", "/v1/freeze", kViewer, R"({"frozen":true})"), 403,
                "operator");
  ExpectProblem(Do("PUT", "/v1/freeze", "", R"({"frozen":true})"), 401,
                "bearer");
  EXPECT_EQ(Do("GET", "/v1/groups/web", kViewer).status, 404);
  EXPECT_FALSE(Do("GET", "/v1/freeze", kViewer).json["frozen"].get<bool>());
  EXPECT_EQ(EventCount(), before);
}

TEST_F(ApiServerTest, AppliesAGroupAndShowsItsSpecAndZones) {
  auto created = Do("PUT", "/v1/groups/web", kAdmin, WebJson(3));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json["desired"], 3);
  auto again = Do("PUT", "/v1/groups/web", kAdmin, WebJson(3));
  EXPECT_EQ(again.status, 200);

  auto list = Do("GET", "/v1/groups", kViewer);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["groups"].size(), 1u);
  EXPECT_EQ(list.json["groups"][0]["name"], "web");

  auto g = Do("GET", "/v1/groups/web", kViewer);
  ASSERT_EQ(g.status, 200);
  for (const char* z : {"sim-1a", "sim-1b", "sim-1c"}) {
    EXPECT_TRUE(g.json["zones"].contains(z)) << z;
    EXPECT_FALSE(g.json["zones"][z]["shifted"].get<bool>());
  }
  // The spec in the answer decodes back to the same spec.
  auto spec = DecodeGroupSpec(g.json["spec"].dump(), "web");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(*spec, FakeBackend::Web(3));
}

TEST_F(ApiServerTest, BadGroupSpecsAreRefusedAndChangeNothing) {
  ApplyQuietWeb();
  auto before = Do("GET", "/v1/groups/web", kViewer).json["spec"];
  size_t events = EventCount();
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, "{\"desired\": 3,"), 400,
                "malformed JSON");
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, "[1,2]"), 400,
                "expected a JSON object");
  json unknown = json::parse(WebJson(3));
  unknown["launch"]["imag"] = "x";
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, unknown.dump()), 400,
                "launch.imag: unknown field");
  json wrong_type = json::parse(WebJson(3));
  wrong_type["desired"] = "three";
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, wrong_type.dump()), 400,
                "desired: expected an integer, got a string");
  json too_big = json::parse(WebJson(3));
  too_big["desired"] = 31;
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, too_big.dump()), 400,
                "desired");
  json bad_ratio = json::parse(WebJson(3));
  bad_ratio["safety"]["panic_ratio"] = 1.5;
  ExpectProblem(Do("PUT", "/v1/groups/web", kAdmin, bad_ratio.dump()), 400,
                "safety.panic_ratio");
  json other_name = json::parse(WebJson(3));
  ExpectProblem(Do("PUT", "/v1/groups/api", kAdmin, other_name.dump()), 400,
                "does not match");
  EXPECT_EQ(Do("GET", "/v1/groups/web", kViewer).json["spec"], before);
  EXPECT_EQ(Do("GET", "/v1/groups/api", kViewer).status, 404);
  EXPECT_EQ(EventCount(), events);
}

TEST_F(ApiServerTest, DesiredCapacityLaunchesAndOutOfRangeIsRefused) {
  Fleet(3);
  auto r = Do("POST", "/v1/groups/web/desired-capacity", kOperator,
              R"({"desired": 5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["desired"], 5);
  EXPECT_TRUE(WaitUntil([&] {
    return Do("GET", "/v1/instances?group=web", kViewer).json["count"] == 5;
  }));
  ExpectProblem(Do("POST", "/v1/groups/web/desired-capacity", kOperator,
                   R"({"desired": 31})"),
                400, "outside [min 0, max 30]");
  ExpectProblem(Do("POST", "/v1/groups/web/desired-capacity", kOperator,
                   R"({"desired": -1})"),
                400, "out of range");
  ExpectProblem(Do("POST", "/v1/groups/web/desired-capacity", kOperator,
                   R"({"desired": 2.5})"),
                400, "expected an integer");
  ExpectProblem(Do("POST", "/v1/groups/web/desired-capacity", kOperator,
                   R"({"desired": 2, "force": true})"),
                400, "force: unknown field");
  ExpectProblem(Do("POST", "/v1/groups/nope/desired-capacity", kOperator,
                   R"({"desired": 2})"),
                404, "nope");
  EXPECT_EQ(Do("GET", "/v1/groups/web", kViewer).json["desired"], 5);
}

TEST_F(ApiServerTest, DeletesAnEmptyGroupOnlyAndNeedsAdmin) {
  ApplyWeb(0);
  ExpectProblem(Do("DELETE", "/v1/groups/web", kOperator), 403, "admin");
  ExpectProblem(Do("DELETE", "/v1/groups/nope", kAdmin), 404, "nope");
  EXPECT_EQ(Do("DELETE", "/v1/groups/web", kAdmin).status, 200);
  EXPECT_EQ(Do("GET", "/v1/groups/web", kViewer).status, 404);
}

TEST_F(ApiServerTest, ListsAndGetsInstancesWithChecksAndHistory) {
  Fleet(3);
  auto all = Do("GET", "/v1/instances", kViewer);
  ASSERT_EQ(all.json["count"], 3);
  std::string id = all.json["instances"][0]["id"];
  std::string zone = all.json["instances"][0]["zone"];
  auto by_zone = Do("GET", "/v1/instances?zone=" + zone, kViewer);
  EXPECT_EQ(by_zone.json["count"], 1);
  EXPECT_EQ(Do("GET", "/v1/instances?health=healthy", kViewer).json["count"],
            3);
  EXPECT_EQ(Do("GET", "/v1/instances?health=unhealthy", kViewer).json["count"],
            0);
  EXPECT_EQ(Do("GET", "/v1/instances?group=other", kViewer).json["count"], 0);
  ExpectProblem(Do("GET", "/v1/instances?health=sick", kViewer), 400,
                "health: \"sick\" is not one of");
  ExpectProblem(Do("GET", "/v1/instances?colour=red", kViewer), 400,
                "colour: unknown");

  auto one = Do("GET", "/v1/instances/" + id, kViewer);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json["id"], id);
  EXPECT_EQ(one.json["checks"]["system"], "ok");
  EXPECT_EQ(one.json["checks"]["instance"], "ok");
  EXPECT_TRUE(one.json["checks"].contains("application"));
  EXPECT_FALSE(one.json["verdict"]["unhealthy"].get<bool>());
  EXPECT_EQ(one.json["role"], "active");
  EXPECT_TRUE(one.json["history"].is_array());
  ExpectProblem(Do("GET", "/v1/instances/sim-999999", kViewer), 404,
                "sim-999999");
}

TEST_F(ApiServerTest, SetInstanceHealthMarksItAndBadRequestsChangeNothing) {
  Fleet(3);
  ASSERT_EQ(Do("PUT", "/v1/freeze", kOperator, R"({"frozen": true})").status,
            200);
  std::string id =
      Do("GET", "/v1/instances", kViewer).json["instances"][0]["id"];
  std::string path = "/v1/instances/" + id + "/health";
  ExpectProblem(Do("POST", path, kViewer, R"({"status":"unhealthy"})"), 403,
                "operator");
  ExpectProblem(Do("POST", path, kOperator, R"({"status":"sick"})"), 400,
                "status: \"sick\" is not one of healthy, unhealthy, automatic");
  ExpectProblem(Do("POST", path, kOperator, R"({"reason":"x"})"), 400,
                "status: required");
  ExpectProblem(Do("POST", path, kOperator, R"({"status":true})"), 400,
                "status: expected a string, got a boolean");
  ExpectProblem(Do("POST", "/v1/instances/sim-999999/health", kOperator,
                   R"({"status":"unhealthy"})"),
                404, "sim-999999");
  EXPECT_TRUE(
      Do("GET", "/v1/instances/" + id, kViewer).json["operator"].is_null());

  auto r = Do("POST", path, kOperator,
              R"({"status":"unhealthy","reason":"disk full"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["operator"]["status"], "unhealthy");
  EXPECT_EQ(r.json["operator"]["reason"], "disk full");
  EXPECT_TRUE(r.json["verdict"]["unhealthy"].get<bool>());
  auto events =
      Do("GET", "/v1/events?instance=" + id + "&type=instance.health_set",
         kViewer);
  ASSERT_EQ(events.json["events"].size(), 1u);
  EXPECT_EQ(events.json["events"][0]["evidence"]["actor"], "api:operator");
  auto back = Do("POST", path, kOperator, R"({"status":"automatic"})");
  EXPECT_TRUE(back.json["operator"].is_null());
}

TEST_F(ApiServerTest, FreezesTheFleetAndAGroup) {
  ApplyWeb(0);
  auto on = Do("PUT", "/v1/freeze", kOperator,
               R"({"frozen": true, "reason": "deploy"})");
  ASSERT_EQ(on.status, 200) << on.body;
  auto f = Do("GET", "/v1/freeze", kViewer);
  EXPECT_TRUE(f.json["frozen"].get<bool>());
  EXPECT_EQ(f.json["reason"], "deploy");
  ExpectProblem(Do("PUT", "/v1/freeze", kOperator, R"({"frozen": "yes"})"), 400,
                "frozen: expected a boolean");
  ASSERT_EQ(Do("PUT", "/v1/groups/web/freeze", kOperator,
               R"({"frozen": true, "reason": "canary"})")
                .status,
            200);
  f = Do("GET", "/v1/freeze", kViewer);
  EXPECT_TRUE(f.json["groups"]["web"]["frozen"].get<bool>());
  EXPECT_EQ(f.json["groups"]["web"]["reason"], "canary");
  EXPECT_TRUE(Do("GET", "/v1/groups/web", kViewer).json["frozen"].get<bool>());
  ExpectProblem(
      Do("PUT", "/v1/groups/nope/freeze", kOperator, R"({"frozen": true})"),
      404, "nope");
  ASSERT_EQ(Do("PUT", "/v1/freeze", kOperator, R"({"frozen": false})").status,
            200);
  EXPECT_FALSE(Do("GET", "/v1/freeze", kViewer).json["frozen"].get<bool>());
}

TEST_F(ApiServerTest, QueriesEventsWithFiltersAndRefusesBadOnes) {
  ApplyQuietWeb();
  ASSERT_EQ(Do("PUT", "/v1/freeze", kOperator, R"({"frozen": true})").status,
            200);
  auto all = Do("GET", "/v1/events", kViewer);
  ASSERT_EQ(all.status, 200);
  ASSERT_GE(all.json["events"].size(), 2u);
  auto freeze = Do("GET", "/v1/events?type=freeze.", kViewer);
  ASSERT_EQ(freeze.json["events"].size(), 1u);
  EXPECT_EQ(freeze.json["events"][0]["type"], "freeze.on");
  uint64_t seq = freeze.json["events"][0]["seq"];
  auto after = Do("GET", "/v1/events?after=" + std::to_string(seq), kViewer);
  EXPECT_TRUE(after.json["events"].empty());
  auto by_group = Do("GET", "/v1/events?group=web&kind=audit&limit=1", kViewer);
  ASSERT_EQ(by_group.json["events"].size(), 1u);
  EXPECT_EQ(by_group.json["events"][0]["type"], "group.created");
  auto window = Do("GET",
                   "/v1/events?since=2000-01-01T00:00:00Z&until=2199-01-01T00:"
                   "00:00Z",
                   kViewer);
  EXPECT_EQ(window.json["events"].size(), all.json["events"].size());
  ExpectProblem(Do("GET", "/v1/events?since=yesterday", kViewer), 400,
                "since: \"yesterday\" is not an RFC 3339");
  ExpectProblem(Do("GET", "/v1/events?until=2999-01-01T00:00:00Z", kViewer),
                400, "between years 1970 and 2200");
  ExpectProblem(Do("GET", "/v1/events?limit=0", kViewer), 400,
                "limit: 0 is out of range");
  ExpectProblem(Do("GET", "/v1/events?limit=abc", kViewer), 400,
                "not a non-negative integer");
  ExpectProblem(Do("GET", "/v1/events?kind=gossip", kViewer), 400, "kind");
  ExpectProblem(Do("GET", "/v1/events?colour=red", kViewer), 400, "colour");
}

// Reads an event stream on its own thread until `stop_after` events.
class StreamReader {
 public:
  StreamReader(int port, std::string path, std::string last_event_id = "")
      : thread_([this, port, path, last_event_id] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(std::chrono::seconds(10));
          httplib::Headers h{{"Authorization", "Bearer viewer-token"}};
          if (!last_event_id.empty()) h.emplace("Last-Event-ID", last_event_id);
          c.Get(path.c_str(), h, [&](const char* data, size_t n) {
            std::lock_guard<std::mutex> lock(mu_);
            text_.append(data, n);
            opened_ = true;
            return !stop_;
          });
        }) {}
  ~StreamReader() {
    stop_ = true;
    thread_.join();
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  bool opened() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_;
  }

 private:
  std::mutex mu_;
  std::string text_;
  bool opened_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ApiServerTest, EventStreamDeliversNewEventsAndResumes) {
  ApplyWeb(0);
  {
    StreamReader stream(server_->port(), "/v1/events/stream?type=freeze.");
    // The keepalive comment shows the stream is open before we act.
    ASSERT_TRUE(WaitUntil([&] { return stream.opened(); }));
    ASSERT_EQ(Do("PUT", "/v1/freeze", kOperator,
                 R"({"frozen": true, "reason": "stream"})")
                  .status,
              200);
    ASSERT_TRUE(WaitUntil([&] {
      return stream.text().find("\"type\":\"freeze.on\"") != std::string::npos;
    })) << stream.text();
    EXPECT_EQ(stream.text().find("group.created"), std::string::npos);
    EXPECT_NE(stream.text().find("id: "), std::string::npos);
  }
  // Resume from before group.created: the backlog comes from the history.
  auto created = Do("GET", "/v1/events?type=group.created", kViewer);
  uint64_t seq = created.json["events"][0]["seq"];
  StreamReader resumed(server_->port(), "/v1/events/stream",
                       std::to_string(seq - 1));
  ASSERT_TRUE(WaitUntil([&] {
    auto t = resumed.text();
    return t.find("group.created") != std::string::npos &&
           t.find("freeze.on") != std::string::npos;
  })) << resumed.text();
  ExpectProblem(Do("GET", "/v1/events/stream?limit=x", kViewer), 400, "limit");
}

TEST_F(ApiServerTest, PreviewWhyWorkflowsAndStatus) {
  Fleet(3);
  std::string id =
      Do("GET", "/v1/instances", kViewer).json["instances"][0]["id"];
  ASSERT_EQ(Do("PUT", "/v1/freeze", kOperator, R"({"frozen": true})").status,
            200);
  ASSERT_EQ(Do("POST", "/v1/instances/" + id + "/health", kOperator,
               R"({"status":"unhealthy","reason":"test"})")
                .status,
            200);
  auto preview = Do("GET", "/v1/preview", kViewer);
  ASSERT_EQ(preview.status, 200);
  EXPECT_TRUE(preview.json["actions"].is_array());
  auto why = Do("GET", "/v1/why/" + id, kViewer);
  ASSERT_EQ(why.status, 200) << why.body;
  EXPECT_TRUE(why.json["managed"].get<bool>());
  bool saw_health_set = false;
  for (const auto& e : why.json["events"]) {
    saw_health_set = saw_health_set || e["type"] == "instance.health_set";
  }
  EXPECT_TRUE(saw_health_set) << why.body;
  ExpectProblem(Do("GET", "/v1/why/sim-999999", kViewer), 404, "sim-999999");
  EXPECT_TRUE(Do("GET", "/v1/workflows", kViewer).json["workflows"].is_array());
  auto status = Do("GET", "/v1/status", kViewer);
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.json["instances"], 3);
  EXPECT_TRUE(status.json["fleet_frozen"].get<bool>());
  EXPECT_EQ(status.json["unhealthy"], 1);
}

TEST_F(ApiServerTest, ZonalShiftsStartListUpdateAndCancel) {
  Fleet(3);
  ExpectProblem(
      Do("POST", "/v1/zonal-shifts", kViewer,
         R"({"group":"web","away_from":"sim-1a","expires_in":"30m"})"),
      403, "operator");
  ExpectProblem(
      Do("POST", "/v1/zonal-shifts", kOperator,
         R"({"group":"web","away_from":"sim-1a","expires_in":"73h"})"),
      400, "expires_in");
  ExpectProblem(Do("POST", "/v1/zonal-shifts", kOperator,
                   R"({"group":"web","away_from":"sim-1a"})"),
                400, "expires_in: required");
  ExpectProblem(
      Do("POST", "/v1/zonal-shifts", kOperator,
         R"({"group":"nope","away_from":"sim-1a","expires_in":"30m"})"),
      404, "nope");
  EXPECT_TRUE(
      Do("GET", "/v1/zonal-shifts", kViewer).json["zonal_shifts"].empty());

  auto started = Do("POST", "/v1/zonal-shifts", kOperator,
                    R"({"group":"web","away_from":"sim-1a","expires_in":"30m",
                        "comment":"drill","skip_validation":true})");
  ASSERT_EQ(started.status, 201) << started.body;
  std::string id = started.json["zonal_shifts"][0]["id"];
  EXPECT_EQ(started.json["zonal_shifts"][0]["state"], "active");
  auto g = Do("GET", "/v1/groups/web", kViewer);
  EXPECT_TRUE(g.json["zones"]["sim-1a"]["shifted"].get<bool>()) << g.body;
  EXPECT_EQ(g.json["active_zonal_shift"]["id"], id);

  auto updated = Do("PATCH", "/v1/zonal-shifts/" + id, kOperator,
                    R"({"comment":"longer drill","expires_in":"2h"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.json["comment"], "longer drill");
  ExpectProblem(Do("PATCH", "/v1/zonal-shifts/" + id, kOperator, "{}"), 400,
                "expires_in, comment or both");
  ExpectProblem(
      Do("PATCH", "/v1/zonal-shifts/zs-nope", kOperator, R"({"comment":"x"})"),
      404, "zs-nope");
  auto list = Do("GET", "/v1/zonal-shifts?state=active", kViewer);
  EXPECT_EQ(list.json["zonal_shifts"].size(), 1u);
  ExpectProblem(Do("GET", "/v1/zonal-shifts?state=sleepy", kViewer), 400,
                "state");

  auto canceled = Do("DELETE", "/v1/zonal-shifts/" + id, kOperator);
  ASSERT_EQ(canceled.status, 200) << canceled.body;
  EXPECT_EQ(canceled.json["state"], "canceled");
  ExpectProblem(Do("DELETE", "/v1/zonal-shifts/" + id, kOperator), 409, "");
  EXPECT_TRUE(Do("GET", "/v1/zonal-shifts?state=active", kViewer)
                  .json["zonal_shifts"]
                  .empty());
}

TEST_F(ApiServerTest, UnknownEndpointsAndMethodsAreProblems) {
  ExpectProblem(Do("GET", "/v1/nothing", kViewer), 404, "no such endpoint");
  auto r = Do("PATCH", "/v1/groups/web", kAdmin, "{}");
  ExpectProblem(r, 405, "allowed: GET, PUT, DELETE");
}

TEST_F(ApiServerTest, OversizedBodiesAreRefused) {
  std::string big(2 << 20, ' ');
  auto r = Do("PUT", "/v1/groups/web", kAdmin, big);
  // The server answers 413 before reading the body; the client may see the
  // answer or, having been cut off while sending, no answer at all.
  EXPECT_TRUE(r.status == 413 || r.status == 0) << r.status;
  EXPECT_EQ(Do("GET", "/v1/groups/web", kViewer).status, 404);
}

}  // namespace
}  // namespace lifeline
