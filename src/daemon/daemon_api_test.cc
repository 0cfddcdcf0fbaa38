// lifelined's parts above the API library, in-process on the sim provider
// with a real loop thread and a real HTTP server: webhooks delivered to a
// local receiver, API groups surviving a restart, autoshift, and reloads.
#include "daemon/daemon_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api_server.h"
#include "api/api_test_util.h"
#include "api/decode.h"
#include "config/config_loader.h"
#include "daemon/daemon_test_util.h"
#include "daemon/webhook_receiver.h"

namespace lifeline {
namespace {

using nlohmann::json;

struct Knobs {
  int desired = 3;
  std::string webhooks;  // YAML list items, indented by 2
  std::string log_level = "info";
  double fleet_rate = 600;
  bool autoshift = false;
};

std::string Yaml(const std::string& state_dir, const Knobs& k) {
  std::string y = "daemon:\n  state_dir: " + state_dir +
                  "\n  systemd_notify: false\n  log_level: " + k.log_level +
                  "\n"
                  "provider:\n"
                  "  kind: sim\n"
                  "  sim:\n"
                  "    latency: {launch: 10ms, boot: 50ms, terminate: 10ms,\n"
                  "              describe_status: 5ms, list_instances: 5ms,\n"
                  "              list_zones: 5ms, reboot: 20ms}\n"
                  "controller:\n"
                  "  status_poll_interval: 100ms\n"
                  "  reconcile_interval: 100ms\n"
                  "  recovery_stable: 200ms\n"
                  "safety:\n"
                  "  cold_start_grace: 100ms\n"
                  "  fleet_actions_per_minute: " +
                  std::to_string(k.fleet_rate) +
                  "\n"
                  "autoshift:\n"
                  "  evaluate_every: 100ms\n"
                  "  silence_sustain: 300ms\n"
                  "  hold_down: 300ms\n"
                  "  min_instances_per_zone: 2\n";
  if (!k.webhooks.empty()) y += "webhooks:\n" + k.webhooks;
  y += "groups:\n"
       "  - name: web\n"
       "    desired: " +
       std::to_string(k.desired) +
       "\n"
       "    max: 20\n"
       "    zones: [sim-1a, sim-1b, sim-1c]\n"
       "    launch: {image: img-1}\n"
       "    grace_period: 0s\n"
       "    ladder:\n"
       "      instance: [{action: replace, timeout: 10s}]\n"
       "      system: [{action: replace, timeout: 10s}]\n"
       "      application: [{action: replace, timeout: 10s}]\n";
  if (k.autoshift) {
    y += "    autoshift: {enabled: true, max_duration: 1h}\n"
         "    impaired_zone_behavior: IgnoreUnhealthy\n";
  }
  return y;
}

class DaemonApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/daemon_api_test_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_path_ = dir_ + "/lifeline.yaml";
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs_);
    auto logger = std::make_shared<spdlog::logger>("t", sink);
    logger->set_pattern("%v");
    log_ = std::make_unique<DaemonLog>(clock_, LogFormat::kText, logger);
    log_->SetLevel("info");
  }
  void TearDown() override {
    StopAll();
    if (HasFailure()) std::printf("%s", logs_.str().c_str());
    std::filesystem::remove_all(dir_);
  }

  void WriteConfig(const Knobs& k) {
    std::ofstream(config_path_) << Yaml(dir_ + "/state", k);
  }

  void StartAll(const Knobs& k) {
    WriteConfig(k);
    auto c = LoadConfigFile(config_path_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    DaemonOptions o;
    o.config_path = config_path_;
    UseApiGroupCodec(&o);
    auto d = Daemon::Create(*c, *log_, o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
    waiter_.Listen(daemon_->history());
    ASSERT_TRUE(daemon_->Start().ok());
    auto b = DaemonApiBackend::Create(*daemon_);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
    ApiServerOptions ao;
    ao.port = 0;
    ao.threads = 4;
    server_ = std::make_unique<ApiServer>(*backend_, ao);
    ASSERT_TRUE(server_->Start().ok());
    std::ifstream in(daemon_->tokens().admin_token_path());
    std::getline(in, token_);
  }

  void StopAll() {
    if (server_) server_->Stop();
    if (daemon_) daemon_->Stop();
    server_.reset();
    backend_.reset();
    daemon_.reset();
  }

  HttpReply Api(const std::string& method, const std::string& path,
                const std::string& body = "") {
    return Call(server_->port(), method, path, token_, body);
  }

  int Active(const std::string& group) {
    auto n = daemon_->RunOnLoop([&] {
      int active = 0;
      for (const auto& [zone, counts] :
           daemon_->controller().ZoneCountsOf(group)) {
        active += counts.active;
      }
      return active;
    });
    return n.ok() ? *n : -1;
  }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit = std::chrono::seconds(30)) {
    return waiter_.WaitFor(pred, limit);
  }

  RealClock clock_;
  std::ostringstream logs_;
  std::unique_ptr<DaemonLog> log_;
  std::string dir_, config_path_, token_;
  HistoryWaiter waiter_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<DaemonApiBackend> backend_;
  std::unique_ptr<ApiServer> server_;
};

std::string HookYaml(const std::string& url, const std::string& extra = "") {
  return "  - url: " + url + "\n    max_attempts: 3\n" + extra;
}

TEST_F(DaemonApiTest, WebhooksDeliverUnhealthyAndRecoveryEventsSigned) {
  WebhookReceiver rx(waiter_);
  std::string key_file = dir_ + "/hook.key";
  std::ofstream(key_file) << "s3cret\n";
  Knobs k;
  k.webhooks = HookYaml(rx.url(), "    signing_secret_file: " + key_file +
                                      "\n    events: [instance., recovery.]\n");
  StartAll(k);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; })) << Active("web");
  ASSERT_TRUE(WaitFor([&] { return daemon_->Ready(); }));
  HttpReply list = Api("GET", "/v1/instances?group=web");
  ASSERT_EQ(list.status, 200) << list.body;
  std::string victim = list.json["instances"][0]["id"];
  HttpReply set = Api("POST", "/v1/instances/" + victim + "/health",
                      R"({"status": "unhealthy", "reason": "webhook test"})");
  ASSERT_EQ(set.status, 200) << set.body;

  ASSERT_TRUE(WaitFor([&] {
    return rx.Find("instance.unhealthy", victim).has_value() &&
           rx.Find("recovery.succeeded", victim).has_value();
  })) << rx.got().size();
  auto unhealthy = *rx.Find("instance.unhealthy", victim);
  EXPECT_EQ(unhealthy.body["source"], "lifeline");
  EXPECT_EQ(unhealthy.body["detail-type"], "Lifeline Instance Unhealthy");
  EXPECT_EQ(unhealthy.body["resources"], json::array({victim}));
  EXPECT_EQ(unhealthy.body["detail"]["group"], "web");
  EXPECT_TRUE(rx.Find("recovery.started", victim).has_value());
  // Signed with the key file's content (trailing newline dropped).
  EXPECT_EQ(unhealthy.signature,
            WebhookDispatcher::Signature("s3cret", unhealthy.timestamp,
                                         unhealthy.raw));
  EXPECT_NE(unhealthy.signature.find("sha256="), std::string::npos);
  // The filter holds: no group.* or safety.* deliveries.
  for (const auto& g : rx.got()) {
    std::string type = g.body["detail"]["type"];
    EXPECT_TRUE(type.rfind("instance.", 0) == 0 ||
                type.rfind("recovery.", 0) == 0)
        << type;
  }
  std::string metrics = backend_->MetricsText();
  EXPECT_NE(metrics.find("lifeline_webhook_deliveries_total{result="
                         "\"delivered\"}"),
            std::string::npos);
}

TEST_F(DaemonApiTest, WebhooksNeverBlockTheControllerOnADeadReceiver) {
  Knobs k;
  // Nothing listens on port 1: every attempt fails and is retried.
  k.webhooks = HookYaml("http://127.0.0.1:1/hook");
  StartAll(k);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; })) << Active("web");
  ASSERT_TRUE(WaitFor([&] { return daemon_->Ready(); }));
  HttpReply list = Api("GET", "/v1/instances?group=web");
  std::string victim = list.json["instances"][0]["id"];
  ASSERT_EQ(Api("POST", "/v1/instances/" + victim + "/health",
                R"({"status": "unhealthy"})")
                .status,
            200);
  // The recovery completes while the deliveries fail.
  EXPECT_TRUE(WaitFor([&] {
    auto wf = daemon_->RunOnLoop(
        [&] { return daemon_->controller().instance(victim) == nullptr; });
    return wf.ok() && *wf && Active("web") == 3;
  }));
  EXPECT_TRUE(WaitFor([&] {
    WebhookStats s = backend_->webhook_stats();
    return s.retries > 0 && s.delivered == 0;
  }));
}

TEST_F(DaemonApiTest, AnUnreadableSigningKeyFailsTheStartNamingIt) {
  Knobs k;
  k.webhooks = HookYaml("http://127.0.0.1:1/hook",
                        "    signing_secret_file: " + dir_ + "/nope.key\n");
  WriteConfig(k);
  auto c = LoadConfigFile(config_path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto d = Daemon::Create(*c, *log_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE((*d)->Start().ok());
  auto b = DaemonApiBackend::Create(**d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("nope.key"), std::string::npos)
      << b.status().message();
  (*d)->Stop();
}

TEST_F(DaemonApiTest, AFailingReceiverGetsTheEventOnARetry) {
  WebhookReceiver rx(waiter_, /*fail_first=*/2);
  Knobs k;
  k.webhooks = HookYaml(rx.url(), "    events: [instance.unhealthy]\n");
  StartAll(k);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; })) << Active("web");
  ASSERT_TRUE(WaitFor([&] { return daemon_->Ready(); }));
  std::string victim =
      Api("GET", "/v1/instances?group=web").json["instances"][0]["id"];
  ASSERT_EQ(Api("POST", "/v1/instances/" + victim + "/health",
                R"({"status": "unhealthy"})")
                .status,
            200);
  // Two 503s, then delivered on the third attempt (max_attempts 3; the
  // backoff starts at 1s).
  ASSERT_TRUE(WaitFor([&] {
    return rx.Find("instance.unhealthy", victim).has_value() &&
           backend_->webhook_stats().delivered == 1;
  }));
  WebhookStats s = backend_->webhook_stats();
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.gave_up, 0u);
}

TEST_F(DaemonApiTest, GroupsAppliedThroughTheApiSurviveARestart) {
  StartAll(Knobs{});
  GroupSpec g;
  g.name = "api-grp";
  g.desired = 2;
  g.max = 4;
  g.zones = {"sim-1a", "sim-1b"};
  g.launch.image = "img-9";
  ASSERT_EQ(Api("PUT", "/v1/groups/api-grp", EncodeGroupSpec(g).dump()).status,
            201);
  GroupSpec gone = g;
  gone.name = "short-lived";
  gone.desired = 0;
  ASSERT_EQ(
      Api("PUT", "/v1/groups/short-lived", EncodeGroupSpec(gone).dump()).status,
      201);
  ASSERT_EQ(Api("DELETE", "/v1/groups/short-lived").status, 200);
  // A file group changed through the API: the file wins at the restart.
  ASSERT_EQ(Api("POST", "/v1/groups/web/desired-capacity", R"({"desired": 5})")
                .status,
            200);
  ASSERT_EQ(
      Api("POST", "/v1/groups/api-grp/desired-capacity", R"({"desired": 3})")
          .status,
      200);
  ASSERT_TRUE(WaitFor([&] { return Active("api-grp") == 3; }));
  StopAll();

  StartAll(Knobs{});
  HttpReply got = Api("GET", "/v1/groups/api-grp");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["spec"]["desired"], 3);
  EXPECT_EQ(got.json["spec"]["launch"]["image"], "img-9");
  EXPECT_EQ(Api("GET", "/v1/groups/short-lived").status, 404);
  EXPECT_EQ(Api("GET", "/v1/groups/web").json["spec"]["desired"], 3);
  // The restored group is run again (a fresh simulated cloud: launched).
  EXPECT_TRUE(WaitFor([&] { return Active("api-grp") == 3; }));
  EXPECT_NE(logs_.str().find("groups applied through the API restored"),
            std::string::npos);
}

TEST_F(DaemonApiTest, AutoshiftMovesAGroupAwayFromAFailedZone) {
  Knobs k;
  k.desired = 9;
  k.autoshift = true;
  StartAll(k);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 9; })) << Active("web");
  ASSERT_TRUE(WaitFor([&] { return daemon_->Ready(); }));
  ASSERT_TRUE(daemon_
                  ->RunOnLoop([&] {
                    return daemon_->sim_provider()->FailZone("sim-1b");
                  })
                  .ok());
  json shift;
  ASSERT_TRUE(WaitFor([&] {
    HttpReply r = Api("GET", "/v1/zonal-shifts?source=autoshift&state=active");
    if (r.status != 200 || r.json["zonal_shifts"].empty()) return false;
    shift = r.json["zonal_shifts"][0];
    return true;
  }));
  EXPECT_EQ(shift["group"], "web");
  EXPECT_EQ(shift["away_from"], "sim-1b");
  EXPECT_EQ(shift["source"], "autoshift");
  EXPECT_FALSE(shift["evidence"].empty()) << shift.dump();
  HttpReply state = Api("GET", "/v1/autoshift");
  ASSERT_EQ(state.status, 200) << state.body;
  ASSERT_EQ(state.json["groups"].size(), 1u) << state.body;
  EXPECT_EQ(state.json["groups"][0]["group"], "web");
  EXPECT_EQ(state.json["groups"][0]["phase"], "shifted");
  EXPECT_EQ(state.json["groups"][0]["zone"], "sim-1b");

  // The zone recovers: after the hold-down the detector ends its shift.
  ASSERT_TRUE(daemon_
                  ->RunOnLoop([&] {
                    return daemon_->sim_provider()->RecoverZone("sim-1b");
                  })
                  .ok());
  EXPECT_TRUE(WaitFor([&] {
    HttpReply r = Api("GET", "/v1/zonal-shifts?source=autoshift");
    return r.status == 200 && r.json["zonal_shifts"].size() == 1 &&
           r.json["zonal_shifts"][0]["state"] != "active";
  })) << Api("GET", "/v1/zonal-shifts").body;
  EXPECT_EQ(Api("GET", "/v1/autoshift").json["groups"][0]["phase"], "watching");
}

TEST_F(DaemonApiTest, PracticeRunsAreScheduledAndListedThroughTheApi) {
  Knobs k;
  k.desired = 6;
  StartAll(k);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 6; }));
  HttpReply made = Api("POST", "/v1/practice-runs",
                       R"({"group": "web", "zone": "sim-1c",
                           "duration": "1h", "comment": "game day"})");
  ASSERT_EQ(made.status, 201) << made.body;
  std::string id = made.json["id"];
  EXPECT_TRUE(WaitFor([&] {
    return Api("GET", "/v1/practice-runs").json["practice_runs"][0]["state"] ==
           "running";
  }));
  HttpReply shifts = Api("GET", "/v1/zonal-shifts?source=practice_run");
  ASSERT_EQ(shifts.json["zonal_shifts"].size(), 1u) << shifts.body;
  EXPECT_EQ(shifts.json["zonal_shifts"][0]["away_from"], "sim-1c");
  HttpReply canceled = Api("DELETE", "/v1/practice-runs/" + id);
  ASSERT_EQ(canceled.status, 200) << canceled.body;
  EXPECT_EQ(canceled.json["state"], "canceled");
  EXPECT_EQ(Api("DELETE", "/v1/practice-runs/" + id).status, 409);
  EXPECT_EQ(Api("DELETE", "/v1/practice-runs/pr-999999").status, 404);
  EXPECT_EQ(
      Api("POST", "/v1/practice-runs", R"({"group": "web", "zone": "nowhere"})")
          .status,
      400);
}

TEST_F(DaemonApiTest,
       ReloadChangesLogSafetyAndWebhooksAndABrokenFileKeepsThem) {
  WebhookReceiver rx(waiter_);
  StartAll(Knobs{});
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; }));
  Knobs next;
  next.webhooks = HookYaml(rx.url());
  next.log_level = "debug";
  next.fleet_rate = 7;
  WriteConfig(next);
  ASSERT_TRUE(daemon_->Reload().ok());
  EXPECT_EQ(daemon_->current_config()->daemon.log_level, "debug");
  EXPECT_EQ(daemon_->current_config()->webhooks.size(), 1u);
  auto rate = daemon_->RunOnLoop([&] {
    return daemon_->controller().governor().config().fleet_actions_per_minute;
  });
  ASSERT_TRUE(rate.ok());
  EXPECT_EQ(*rate, 7);
  EXPECT_NE(logs_.str().find("webhooks reloaded"), std::string::npos);

  // A signing key that cannot be read: nothing changes.
  Knobs broken = next;
  broken.webhooks =
      HookYaml(rx.url(), "    signing_secret_file: " + dir_ + "/missing\n");
  broken.log_level = "warn";
  WriteConfig(broken);
  Status s = daemon_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("signing_secret_file"), std::string::npos)
      << s.message();
  EXPECT_EQ(daemon_->current_config()->daemon.log_level, "debug");
  // A file that does not parse: nothing changes either.
  std::ofstream(config_path_) << "webhooks: [{url: ftp://x}]\n";
  EXPECT_FALSE(daemon_->Reload().ok());

  // The reloaded webhook still delivers.
  HttpReply list = Api("GET", "/v1/instances?group=web");
  std::string victim = list.json["instances"][0]["id"];
  ASSERT_EQ(Api("POST", "/v1/instances/" + victim + "/health",
                R"({"status": "unhealthy"})")
                .status,
            200);
  EXPECT_TRUE(WaitFor(
      [&] { return rx.Find("instance.unhealthy", victim).has_value(); }));
  EXPECT_TRUE(rx.Find("instance.unhealthy", victim)->signature.empty());
}

}  // namespace
}  // namespace lifeline
