// End to end: the real lifelined on the sim provider (300 instances in two
// groups over three zones, short latencies), observed only from outside —
// its exit codes, its log, the HTTP API and the lifeline CLI:
//   - --check-config accepts a good file and names file:line:column in a
//     broken one;
//   - LIFELINE_* variables override the file and flags override both;
//   - /healthz, /readyz and /metrics, the admin token and 401 without it;
//   - SIGHUP with a broken file keeps the running config and logs why; with
//     a changed file applies it and the fleet follows;
//   - SIGTERM exits 0 promptly, and a zonal shift and a fleet freeze made
//     through the CLI survive a restart on the same state dir;
//   - the CLI's filters, why, preview and exit codes.
// Every wait is a bounded poll of something the daemon shows.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "daemon/lifelined_process.h"

namespace lifeline {
namespace {

using nlohmann::json;

constexpr int kWeb = 240;
constexpr int kBatch = 60;
constexpr const char* kZones[] = {"sim-1a", "sim-1b", "sim-1c"};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

class SimDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/sim_daemon_test_" +
           std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = FreeLoopbackPort();
    ASSERT_GT(port_, 0);
    config_ = dir_ + "/lifeline.yaml";
    log_ = dir_ + "/lifelined.log";
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- lifelined.log ---\n" << ReadAll(log_);
    }
    StopLifelined(pid_, SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  // The config file; `web_desired_value` is written verbatim (a broken
  // value makes a broken file).
  std::string ConfigText(const std::string& web_desired_value,
                         bool with_batch = true) {
    std::ostringstream c;
    c << "daemon:\n  state_dir: " << dir_ << "/state\n"
      << "  systemd_notify: false\n  log_format: text\n"
      << "api: {listen: 127.0.0.1:" << port_ << "}\n"
      << "provider:\n  kind: sim\n  sim:\n    seed: 3\n"
      << "    zones: [sim-1a, sim-1b, sim-1c]\n"
      << "    latency:\n"
      << "      launch: {base: 10ms, jitter: 20ms}\n"
      << "      boot: {base: 100ms, jitter: 100ms}\n"
      << "      terminate: {base: 10ms, jitter: 20ms}\n"
      << "      describe_status: 5ms\n      list_instances: 5ms\n"
      << "      list_zones: 5ms\n"
      << "    populate:\n      - {group: web, count: " << kWeb << "}\n"
      << "controller: {status_poll_interval: 500ms, reconcile_interval: 1s}\n"
      << "safety: {cold_start_grace: 1s}\n"
      << "groups:\n"
      << "  - name: web\n"
      << "    desired: " << web_desired_value << "\n"
      << "    max: 400\n"
      << "    zones: [sim-1a, sim-1b, sim-1c]\n"
      << "    launch: {image: img-web, instance_type: m5.large}\n"
      << "    grace_period: 2s\n";
    if (!with_batch) return c.str();
    c << "  - name: batch\n"
      << "    desired: " << kBatch << "\n"
      << "    max: 120\n"
      << "    zones: [sim-1a, sim-1b, sim-1c]\n"
      << "    launch: {image: img-batch, instance_type: m5.xlarge}\n"
      << "    grace_period: 2s\n"
      // Scaled in to 0 within a second or two (SighupDeletes...).
      << "    safety: {actions_per_minute: 6000, burst: " << kBatch << "}\n";
    return c.str();
  }
  void WriteConfig(const std::string& web_desired_value = "240",
                   bool with_batch = true) {
    std::ofstream(config_) << ConfigText(web_desired_value, with_batch);
  }
  // 1-based line of the web group's `desired:` in ConfigText.
  int WebDesiredLine() {
    std::istringstream in(ConfigText("240"));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line == "    desired: 240") return n;
    }
    return -1;
  }

  void StartDaemon(
      const std::vector<std::pair<std::string, const char*>>& env = {},
      const std::vector<std::string>& args = {}) {
    token_.clear();
    pid_ = SpawnLifelined(config_, log_, env, args);
    ASSERT_GT(pid_, 0);
  }
  bool Alive() {
    int status = 0;
    return !TryReapLifelined(pid_, &status);
  }
  // Runs lifelined to completion (e.g. --check-config); its exit code, or
  // -1 when it did not exit within 30 s.
  int RunToExit(const std::vector<std::pair<std::string, const char*>>& env,
                const std::vector<std::string>& args) {
    pid_t pid = SpawnLifelined(config_, log_, env, args);
    int status = 0;
    bool exited = WaitFor([&] { return TryReapLifelined(pid, &status); },
                          seconds(30), /*need_daemon=*/false);
    if (!exited) {
      StopLifelined(pid, SIGKILL);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit, bool need_daemon = true) {
    return PollUntil(clock_, pred, limit, milliseconds(50),
                     [&] { return !need_daemon || Alive(); });
  }

  std::string Token() {
    if (token_.empty()) {
      token_ = ReadAll(dir_ + "/state/admin.token");
      while (!token_.empty() && std::isspace(token_.back())) token_.pop_back();
    }
    return token_;
  }
  // A raw GET on `port` (default: the file's port); nullptr when nothing
  // answers.
  httplib::Result Raw(const std::string& path, std::optional<std::string> token,
                      int port = 0) {
    httplib::Client c("127.0.0.1", port ? port : port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    httplib::Headers h;
    if (token) h.emplace("Authorization", "Bearer " + *token);
    return c.Get(path, h);
  }
  // GET with the admin token: the JSON body of a 200, else nullopt.
  std::optional<json> Get(const std::string& path) {
    if (Token().empty()) return std::nullopt;
    auto r = Raw(path, Token());
    if (!r || r->status != 200) return std::nullopt;
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  }

  // Ready, no workflow in flight, and every group at its desired capacity
  // with every instance active and healthy.
  bool Settled(int web = kWeb) {
    auto s = Get("/v1/status");
    if (!s || !(*s)["ready"].get<bool>() || (*s)["workflows"] != 0 ||
        (*s)["instances"] != web + kBatch || (*s)["unhealthy"] != 0) {
      return false;
    }
    std::map<std::string, int> want = {{"web", web}, {"batch", kBatch}};
    for (const auto& g : (*s)["groups"]) {
      std::string name = g["name"];
      if (!want.count(name) || g["desired"] != want[name] ||
          g["active"] != want[name]) {
        return false;
      }
    }
    return true;
  }
  std::string SettledDetail() {
    auto s = Get("/v1/status");
    return s ? s->dump() : "(no answer from /v1/status)";
  }

  // Runs the lifeline CLI against the daemon.
  CliResult Cli(const std::string& args) {
    std::string err_file = dir_ + "/cli.err";
    std::string cmd = std::string(LIFELINE_CLI_PATH) +
                      " --endpoint http://127.0.0.1:" + std::to_string(port_) +
                      " --state-dir " + dir_ + "/state " + args + " 2>" +
                      err_file;
    CliResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = ReadAll(err_file);
    return r;
  }
  json CliJson(const std::string& args) {
    CliResult r = Cli(args + " -o json");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.out << r.err;
    return json::parse(r.out, nullptr, false);
  }

  RealClock clock_;
  std::string dir_, config_, log_, token_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(SimDaemonTest, CheckConfigAcceptsAGoodFileAndNamesTheBrokenLine) {
  WriteConfig();
  EXPECT_EQ(RunToExit({}, {"--check-config"}), 0) << ReadAll(log_);
  EXPECT_NE(ReadAll(log_).find(config_ + ": OK (2 group(s), provider sim"),
            std::string::npos)
      << ReadAll(log_);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/state.db"))
      << "--check-config must not start anything";

  std::filesystem::remove(log_);
  WriteConfig("six");
  EXPECT_EQ(RunToExit({}, {"--check-config"}), 1);
  std::string err = ReadAll(log_);
  // path:line:column: key: what.
  std::string where = config_ + ":" + std::to_string(WebDesiredLine()) + ":";
  size_t at = err.find(where);
  ASSERT_NE(at, std::string::npos) << "no " << where << " in: " << err;
  std::string rest = err.substr(at + where.size());
  EXPECT_TRUE(std::regex_search(
      rest,
      std::regex(R"(^[1-9][0-9]*: groups\[0\]\.desired: expected an integer)")))
      << err;
  // Without --check-config a broken file refuses to start, the same way.
  std::filesystem::remove(log_);
  EXPECT_EQ(RunToExit({}, {}), 1);
  EXPECT_NE(ReadAll(log_).find("groups[0].desired"), std::string::npos);
}

TEST_F(SimDaemonTest, EnvironmentOverridesTheFileAndFlagsOverrideBoth) {
  WriteConfig();
  int env_port = FreeLoopbackPort();
  ASSERT_GT(env_port, 0);
  ASSERT_NE(env_port, port_);
  std::string env_listen = "127.0.0.1:" + std::to_string(env_port);
  std::string env_state = dir_ + "/env-state";
  // The environment moves the API and the state dir and asks for text
  // logs; the flag asks for JSON and wins.
  std::vector<std::pair<std::string, const char*>> env = {
      {"LIFELINE_API_LISTEN", env_listen.c_str()},
      {"LIFELINE_STATE_DIR", env_state.c_str()},
      {"LIFELINE_LOG_FORMAT", "text"}};
  EXPECT_EQ(RunToExit(env, {"--check-config"}), 0);
  EXPECT_NE(ReadAll(log_).find("state_dir " + env_state), std::string::npos)
      << ReadAll(log_);
  std::filesystem::remove(log_);

  StartDaemon(env, {"--log-format", "json"});
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Raw("/healthz", std::nullopt, env_port);
        return r && r->status == 200;
      },
      seconds(30)))
      << "nothing serves on the LIFELINE_API_LISTEN address " << env_listen;
  EXPECT_FALSE(Raw("/healthz", std::nullopt)) << "the file's port answers";
  std::string token = ReadAll(env_state + "/admin.token");
  while (!token.empty() && std::isspace(token.back())) token.pop_back();
  EXPECT_FALSE(token.empty()) << "no admin token in LIFELINE_STATE_DIR";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/admin.token"));
  auto r = Raw("/v1/status", token, env_port);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  // A reload applies the overrides again: the file's `log_format: text`
  // does not come back.
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadAll(log_).find("\"msg\":\"config reloaded\"") !=
               std::string::npos;
      },
      seconds(30)))
      << "no JSON \"config reloaded\" line after SIGHUP";
  r = Raw("/v1/status", token, env_port);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  // Every log line is a JSON object (the flag beat LIFELINE_LOG_FORMAT).
  std::istringstream lines(ReadAll(log_));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("msg") && j.contains("ts")) << line;
    ++n;
  }
  EXPECT_GT(n, 0);
  StopLifelined(pid_, SIGTERM);

  // A bad value in the environment is refused, naming the variable.
  std::filesystem::remove(log_);
  EXPECT_EQ(RunToExit({{"LIFELINE_LOG_FORMAT", "xml"}}, {"--check-config"}), 1);
  EXPECT_NE(ReadAll(log_).find("LIFELINE_LOG_FORMAT"), std::string::npos)
      << ReadAll(log_);
  // So is an address the API could not bind (it used to pass the check and
  // fail the start).
  for (const char* listen :
       {"127.0.0.1:99999", "127.0.0.1:", "localhost:http"}) {
    std::filesystem::remove(log_);
    EXPECT_EQ(RunToExit({}, {"--check-config", "--api-listen", listen}), 1)
        << listen;
    EXPECT_NE(ReadAll(log_).find("--api-listen: expected host:port"),
              std::string::npos)
        << ReadAll(log_);
  }
}

TEST_F(SimDaemonTest, ServesHealthReadinessAndMetricsWithTheAdminToken) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Raw("/healthz", std::nullopt);
        return r && r->status == 200;
      },
      seconds(30)));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Raw("/readyz", std::nullopt);
        return r && r->status == 200;
      },
      seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(60)))
      << SettledDetail();

  auto anon = Raw("/metrics", std::nullopt);
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  auto wrong = Raw("/metrics", std::string(64, 'f'));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto anon_api = Raw("/v1/status", std::nullopt);
  ASSERT_TRUE(anon_api);
  EXPECT_EQ(anon_api->status, 401);

  auto m = Raw("/metrics", Token());
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("lifeline_ready 1"), std::string::npos) << m->body;
  // lifeline_instances{group,zone,state="active"} adds up per group.
  std::map<std::string, double> active;
  std::set<std::string> zones;
  std::regex gauge(R"(^lifeline_instances\{([^}]*)\} ([0-9.e+]+)$)");
  std::istringstream lines(m->body);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch g;
    if (!std::regex_match(line, g, gauge)) continue;
    std::string labels = g[1];
    if (labels.find("state=\"active\"") == std::string::npos) continue;
    std::smatch grp, zone;
    ASSERT_TRUE(
        std::regex_search(labels, grp, std::regex(R"re(group="([^"]+)")re")));
    ASSERT_TRUE(
        std::regex_search(labels, zone, std::regex(R"re(zone="([^"]+)")re")));
    active[grp[1]] += std::stod(g[2]);
    zones.insert(zone[1]);
  }
  EXPECT_EQ(active["web"], kWeb) << m->body;
  EXPECT_EQ(active["batch"], kBatch) << m->body;
  EXPECT_EQ(zones, (std::set<std::string>{"sim-1a", "sim-1b", "sim-1c"}));
  StopLifelined(pid_, SIGTERM);
}

TEST_F(SimDaemonTest,
       SighupKeepsTheRunningConfigOnABrokenFileAndAppliesAGoodOne) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(60)))
      << SettledDetail();

  WriteConfig("six");
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  std::string want = config_ + ":" + std::to_string(WebDesiredLine()) + ":";
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string log = ReadAll(log_);
        size_t at = log.find("reload failed; keeping the running config");
        return at != std::string::npos &&
               log.find(want, at) != std::string::npos &&
               log.find("groups[0].desired", at) != std::string::npos;
      },
      seconds(30)))
      << "no reload failure naming " << want;
  // Still serving, still at the old capacity.
  auto health = Raw("/healthz", std::nullopt);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto web = Get("/v1/groups/web");
  ASSERT_TRUE(web);
  EXPECT_EQ((*web)["desired"], kWeb);

  // A valid change is applied and the fleet follows.
  constexpr int kMore = kWeb + 30;
  WriteConfig(std::to_string(kMore));
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] { return Settled(kMore); }, seconds(60)))
      << SettledDetail();
  EXPECT_NE(ReadAll(log_).find("config reloaded"), std::string::npos);
  auto updated = Get("/v1/events?group=web&type=group.&limit=100");
  ASSERT_TRUE(updated);
  EXPECT_NE(updated->dump().find("config-reload"), std::string::npos)
      << updated->dump();
  StopLifelined(pid_, SIGTERM);
}

TEST_F(SimDaemonTest, SighupDeletesAGroupThatLeftTheFileOnceItIsEmpty) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(60)))
      << SettledDetail();

  // batch leaves the file while it still has instances: kept, with a warning.
  WriteConfig("240", /*with_batch=*/false);
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadAll(log_).find("group left the config but is kept") !=
               std::string::npos;
      },
      seconds(30)));
  EXPECT_TRUE(Get("/v1/groups/batch")) << "batch deleted with instances";

  // The operator scales it in; once empty it is deleted without another
  // reload, and a restart does not bring it back.
  CliResult scale = Cli("groups set-desired batch 0");
  ASSERT_EQ(scale.exit_code, 0) << scale.out << scale.err;
  auto gone = [&] {
    auto r = Raw("/v1/groups/batch", Token());
    return r && r->status == 404;
  };
  ASSERT_TRUE(WaitFor(gone, seconds(30)))
      << Get("/v1/groups/batch").value_or(json()).dump();
  auto deleted = Get("/v1/events?group=batch&type=group.deleted");
  ASSERT_TRUE(deleted);
  EXPECT_EQ((*deleted)["events"].size(), 1u) << deleted->dump();

  StopLifelined(pid_, SIGTERM);
  StartDaemon();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Raw("/readyz", std::nullopt);
        return r && r->status == 200;
      },
      seconds(30)));
  EXPECT_TRUE(gone()) << "batch came back after a restart";
  StopLifelined(pid_, SIGTERM);
}

TEST_F(SimDaemonTest, SigtermExitsCleanlyAndShiftAndFreezeSurviveARestart) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(60)))
      << SettledDetail();

  CliResult shift =
      Cli("shifts start --group web --away-from sim-1a --expires-in 30m");
  ASSERT_EQ(shift.exit_code, 0) << shift.out << shift.err;
  CliResult freeze = Cli("freeze on --reason x");
  ASSERT_EQ(freeze.exit_code, 0) << freeze.out << freeze.err;
  EXPECT_EQ(freeze.out, "fleet freeze on\n");

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_TRUE(WaitFor([&] { return TryReapLifelined(pid_, &status); },
                      seconds(10), /*need_daemon=*/false))
      << "lifelined did not exit within 10 s of SIGTERM";
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  StartDaemon();  // same state dir
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Raw("/readyz", std::nullopt);
        return r && r->status == 200;
      },
      seconds(30)));
  json shifts = CliJson("shifts list --group web --state active");
  ASSERT_TRUE(shifts.is_object()) << shifts.dump();
  ASSERT_EQ(shifts["zonal_shifts"].size(), 1u) << shifts.dump();
  EXPECT_EQ(shifts["zonal_shifts"][0]["away_from"], "sim-1a");
  EXPECT_EQ(shifts["zonal_shifts"][0]["group"], "web");
  CliResult fs = Cli("freeze status");
  EXPECT_EQ(fs.exit_code, 0) << fs.err;
  EXPECT_EQ(fs.out.rfind("fleet: frozen (x)\n", 0), 0u) << fs.out;
  auto api = Get("/v1/freeze");
  ASSERT_TRUE(api);
  EXPECT_EQ((*api)["frozen"], true);
  EXPECT_EQ((*api)["reason"], "x");
  auto group = Get("/v1/groups/web");
  ASSERT_TRUE(group);
  EXPECT_EQ((*group)["shifted_zones"], json::array({"sim-1a"}))
      << group->dump();
  StopLifelined(pid_, SIGTERM);
}

TEST_F(SimDaemonTest, CliFiltersExplainsPreviewsAndReturnsExitCodes) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(60)))
      << SettledDetail();

  std::string some_id;
  int total = 0;
  for (const char* zone : kZones) {
    json j = CliJson(std::string("instances list --group web --zone ") + zone);
    ASSERT_TRUE(j.is_object()) << j.dump();
    for (const auto& i : j["instances"]) {
      EXPECT_EQ(i["group"], "web");
      EXPECT_EQ(i["zone"], zone);
      some_id = i["id"];
    }
    // Balanced across the three zones.
    EXPECT_EQ(j["instances"].size(), static_cast<size_t>(kWeb / 3)) << zone;
    total += j["instances"].size();
  }
  EXPECT_EQ(total, kWeb);
  json batch = CliJson("instances list --group batch --health healthy");
  ASSERT_TRUE(batch.is_object());
  EXPECT_EQ(batch["instances"].size(), static_cast<size_t>(kBatch));
  json none = CliJson("instances list --group web --health unhealthy");
  ASSERT_TRUE(none.is_object());
  EXPECT_TRUE(none["instances"].empty()) << none.dump();

  CliResult why = Cli("why " + some_id);
  EXPECT_EQ(why.exit_code, 0) << why.err;
  EXPECT_EQ(why.out.rfind(some_id + ": healthy, running", 0), 0u) << why.out;
  json why_json = CliJson("why " + some_id);
  EXPECT_EQ(why_json["instance"], some_id);
  EXPECT_EQ(why_json["managed"], true);

  CliResult preview = Cli("preview");
  EXPECT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_EQ(preview.out, "nothing to do\n");
  json preview_json = CliJson("preview");
  EXPECT_TRUE(preview_json["actions"].is_array()) << preview_json.dump();

  for (const char* cmd : {"why sim-999999", "instances get sim-999999"}) {
    CliResult r = Cli(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("sim-999999"), std::string::npos) << cmd << r.err;
  }
  for (const char* cmd : {"instances list --bogus", "frobnicate", "why",
                          "shifts start --group web"}) {
    CliResult r = Cli(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
  }
  StopLifelined(pid_, SIGTERM);
}

}  // namespace
}  // namespace lifeline
