// The built lifeline binary against a real API server on loopback (backed
// by a Controller on the sim provider): output, -o json, and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/api_server.h"
#include "api/api_test_util.h"
#include "api/decode.h"
#include "api/fake_backend.h"

namespace lifeline {
namespace {

using nlohmann::json;

struct CliRun {
  int exit = -1;
  std::string out, err;
  json Json() const { return json::parse(out, nullptr, false); }
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.port = 0;
    o.stream_keepalive = std::chrono::milliseconds(100);
    server_ = std::make_unique<ApiServer>(backend_, o);
    ASSERT_TRUE(server_->Start().ok());
    char tmpl[] = "/tmp/lifeline-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    server_->Stop();
    std::string rm = "rm -rf " + Quote(dir_);
    ASSERT_EQ(std::system(rm.c_str()), 0);
  }

  std::string Endpoint() const {
    return "http://127.0.0.1:" + std::to_string(server_->port());
  }

  // Runs the binary with `env` (KEY=VALUE ...) and args.
  CliRun Cli(const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}) {
    std::string cmd =
        "env -u LIFELINE_TOKEN -u LIFELINE_STATE_DIR "
        "LIFELINE_ENDPOINT=" +
        Quote(Endpoint());
    bool has_token = false;
    for (const auto& e : env) {
      cmd += " " + Quote(e);
      has_token = has_token || e.rfind("LIFELINE_TOKEN=", 0) == 0 ||
                  e.rfind("LIFELINE_STATE_DIR=", 0) == 0;
    }
    if (!has_token) cmd += " LIFELINE_TOKEN=admin-token";
    cmd += " " + std::string(LIFELINE_CLI_BINARY);
    for (const auto& a : args) cmd += " " + Quote(a);
    std::string err_file = dir_ + "/stderr";
    cmd += " 2>" + Quote(err_file);
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
      r.out.append(buf, n);
    int status = pclose(p);
    r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    r.err.assign(std::istreambuf_iterator<char>(in), {});
    return r;
  }

  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  void WaitForInstances(int n) {
    ASSERT_TRUE(WaitUntil([&] {
      auto r = Cli({"instances", "list", "-o", "json"});
      auto j = r.Json();
      if (r.exit != 0 || !j.is_object() || j["count"] != n) return false;
      for (const auto& i : j["instances"]) {
        if (i["lifecycle"] != "running") return false;
      }
      return true;
    }));
  }

  FakeBackend backend_;
  std::unique_ptr<ApiServer> server_;
  std::string dir_;
};

TEST_F(CliTest, AppliesAYamlGroupAndListsAndGetsIt) {
  WriteFile("web.yaml",
            "name: web\n"
            "desired: 3\n"
            "max: 10\n"
            "zones: [sim-1a, sim-1b, sim-1c]\n"
            "launch:\n"
            "  image: img-1\n"
            "  tags: {team: \"007\"}\n"
            "grace_period: 60s\n");
  auto applied = Cli({"groups", "apply", "-f", dir_ + "/web.yaml"});
  ASSERT_EQ(applied.exit, 0) << applied.err;
  EXPECT_NE(applied.out.find("group web applied: desired 3"),
            std::string::npos);

  auto list = Cli({"groups", "list"});
  ASSERT_EQ(list.exit, 0) << list.err;
  EXPECT_NE(list.out.find("NAME"), std::string::npos);
  EXPECT_NE(list.out.find("web"), std::string::npos);

  auto get = Cli({"groups", "get", "web", "-o", "json"});
  ASSERT_EQ(get.exit, 0) << get.err;
  EXPECT_EQ(get.Json()["spec"]["launch"]["tags"]["team"], "007");
  EXPECT_EQ(get.Json()["spec"]["max"], 10);

  auto table = Cli({"groups", "get", "web"});
  EXPECT_NE(table.out.find("sim-1b"), std::string::npos) << table.out;
}

TEST_F(CliTest, ServerRefusalsExitOneWithTheProblemDetail) {
  WriteFile("bad.json", R"({"name": "web", "desired": "three"})");
  auto bad = Cli({"groups", "apply", "-f", dir_ + "/bad.json"});
  EXPECT_EQ(bad.exit, 1);
  EXPECT_NE(bad.err.find("desired: expected an integer"), std::string::npos)
      << bad.err;
  auto missing = Cli({"instances", "get", "sim-999999"});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
  auto viewer = Cli({"freeze", "on"}, {"LIFELINE_TOKEN=viewer-token"});
  EXPECT_EQ(viewer.exit, 1);
  EXPECT_NE(viewer.err.find("403"), std::string::npos) << viewer.err;
  auto no_token =
      Cli({"groups", "list"}, {"LIFELINE_STATE_DIR=" + dir_ + "/none"});
  EXPECT_EQ(no_token.exit, 1);
  EXPECT_NE(no_token.err.find("401"), std::string::npos) << no_token.err;
  auto unreachable = Cli({"--endpoint", "http://127.0.0.1:1", "status"});
  EXPECT_EQ(unreachable.exit, 1);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({}).exit, 2);
  EXPECT_EQ(Cli({"frobnicate"}).exit, 2);
  EXPECT_EQ(Cli({"instances", "set-health", "i-1", "--status", "sick"}).exit,
            2);
  EXPECT_EQ(Cli({"groups", "get"}).exit, 2);
  EXPECT_EQ(Cli({"-o", "yaml", "status"}).exit, 2);
  EXPECT_EQ(Cli({"--help"}).exit, 0);
}

TEST_F(CliTest, TokenComesFromTheStateDirectory) {
  ASSERT_EQ(std::system(("mkdir -p " + Quote(dir_ + "/state")).c_str()), 0);
  WriteFile("state/admin.token", "admin-token\n");
  auto r = Cli({"freeze", "on", "--reason", "from state dir"},
               {"LIFELINE_STATE_DIR=" + dir_ + "/state"});
  EXPECT_EQ(r.exit, 0) << r.err;
  auto s = Cli({"--state-dir", dir_ + "/state", "freeze", "status"},
               {"LIFELINE_STATE_DIR=/nonexistent"});
  EXPECT_EQ(s.exit, 0) << s.err;
  EXPECT_NE(s.out.find("fleet: frozen (from state dir)"), std::string::npos)
      << s.out;
}

TEST_F(CliTest, InstancesHealthFreezeWhyPreviewAndStatus) {
  ASSERT_EQ(Call(server_->port(), "PUT", "/v1/groups/web", "admin-token",
                 EncodeGroupSpec(FakeBackend::Web(3)).dump())
                .status,
            201);
  WaitForInstances(3);
  ASSERT_EQ(Cli({"freeze", "on", "--reason", "cli test"}).exit, 0);
  auto list = Cli({"instances", "list", "--group", "web", "-o", "json"});
  ASSERT_EQ(list.exit, 0) << list.err;
  std::string id = list.Json()["instances"][0]["id"];
  auto table = Cli({"instances", "list", "--health", "healthy"});
  EXPECT_NE(table.out.find(id), std::string::npos);

  auto set = Cli({"instances", "set-health", id, "--status", "unhealthy",
                  "--reason", "bad disk"});
  ASSERT_EQ(set.exit, 0) << set.err;
  EXPECT_NE(set.out.find("health unhealthy"), std::string::npos) << set.out;
  auto get = Cli({"instances", "get", id});
  EXPECT_NE(get.out.find("Operator:   unhealthy (bad disk)"), std::string::npos)
      << get.out;
  auto why = Cli({"why", id});
  ASSERT_EQ(why.exit, 0) << why.err;
  EXPECT_NE(why.out.find("instance.health_set"), std::string::npos) << why.out;
  EXPECT_EQ(Cli({"preview"}).exit, 0);
  auto status = Cli({"status"});
  ASSERT_EQ(status.exit, 0) << status.err;
  EXPECT_NE(status.out.find("Frozen:      yes"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("1 unhealthy"), std::string::npos) << status.out;
  auto events = Cli({"events", "--instance", id, "--type", "instance."});
  ASSERT_EQ(events.exit, 0) << events.err;
  EXPECT_NE(events.out.find("instance.health_set"), std::string::npos);
  ASSERT_EQ(Cli({"groups", "set-desired", "web", "4"}).exit, 0);
  EXPECT_EQ(Cli({"groups", "set-desired", "web", "99"}).exit, 1);
  EXPECT_EQ(Cli({"workflows", "-o", "json"}).exit, 0);
}

TEST_F(CliTest, ZonalShiftsFromStartToCancel) {
  ASSERT_EQ(Call(server_->port(), "PUT", "/v1/groups/web", "admin-token",
                 EncodeGroupSpec(FakeBackend::Web(3)).dump())
                .status,
            201);
  auto start = Cli({"shifts", "start", "--group", "web", "--away-from",
                    "sim-1a", "--expires-in", "30m", "--comment", "drill",
                    "--skip-validation", "-o", "json"});
  ASSERT_EQ(start.exit, 0) << start.err;
  std::string id = start.Json()["zonal_shifts"][0]["id"];
  auto list = Cli({"shifts", "list"});
  EXPECT_NE(list.out.find(id), std::string::npos);
  EXPECT_NE(list.out.find("drill"), std::string::npos);
  auto upd = Cli({"shifts", "update", id, "--comment", "longer"});
  EXPECT_EQ(upd.exit, 0) << upd.err;
  EXPECT_EQ(Cli({"shifts", "start", "--group", "web", "--away-from", "sim-1a",
                 "--expires-in", "100h"})
                .exit,
            1);
  auto cancel = Cli({"shifts", "cancel", id});
  EXPECT_EQ(cancel.exit, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("canceled"), std::string::npos);
  EXPECT_EQ(Cli({"shifts", "cancel", id}).exit, 1);
}

TEST_F(CliTest, AutoshiftStateAndPracticeRuns) {
  ASSERT_EQ(Call(server_->port(), "PUT", "/v1/groups/web", "admin-token",
                 EncodeGroupSpec(FakeBackend::Web(3)).dump())
                .status,
            201);
  auto state = Cli({"autoshift"});
  ASSERT_EQ(state.exit, 0) << state.err;
  EXPECT_NE(state.out.find("web"), std::string::npos) << state.out;
  EXPECT_NE(state.out.find("watching"), std::string::npos) << state.out;
  auto start =
      Cli({"practice-runs", "start", "--group", "web", "--zone", "sim-1b",
           "--duration", "20m", "--start-at", "2099-01-01T00:00:00Z",
           "--comment", "game day", "-o", "json"});
  ASSERT_EQ(start.exit, 0) << start.err;
  std::string id = start.Json()["id"];
  EXPECT_EQ(start.Json()["state"], "scheduled");
  auto list = Cli({"practice-runs", "list", "--group", "web"});
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("scheduled"), std::string::npos);
  auto cancel = Cli({"practice-runs", "cancel", id});
  EXPECT_EQ(cancel.exit, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("canceled"), std::string::npos);
  EXPECT_EQ(Cli({"practice-runs", "cancel", id}).exit, 1);
  EXPECT_EQ(Cli({"practice-runs", "start", "--group", "web"}).exit, 2);
}

TEST_F(CliTest, TalksTlsWithTheGivenCaCert) {
  if (!ApiTlsSupported()) GTEST_SKIP() << "no TLS in cpp-httplib";
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      "-keyout " +
      dir_ + "/key.pem -out " + dir_ + "/cert.pem >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "no openssl command";
  ApiServerOptions o;
  o.port = 0;
  o.tls_cert_file = dir_ + "/cert.pem";
  o.tls_key_file = dir_ + "/key.pem";
  ApiServer tls(backend_, o);
  ASSERT_TRUE(tls.Start().ok());
  std::string endpoint = "https://127.0.0.1:" + std::to_string(tls.port());
  auto ok = Cli({"--endpoint", endpoint, "--cacert", dir_ + "/cert.pem",
                 "groups", "list"});
  EXPECT_EQ(ok.exit, 0) << ok.err;
  EXPECT_NE(ok.out.find("NAME"), std::string::npos);
  // Without the certificate the server is not trusted.
  auto untrusted = Cli({"--endpoint", endpoint, "groups", "list"});
  EXPECT_EQ(untrusted.exit, 1);
  tls.Stop();
}

TEST_F(CliTest, FollowsEvents) {
  // Start "lifeline events --follow" with its stdout on a pipe, so that it
  // can be stopped by its pid once it printed an event.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string endpoint = "LIFELINE_ENDPOINT=" + Endpoint();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    setenv("LIFELINE_ENDPOINT", Endpoint().c_str(), 1);
    setenv("LIFELINE_TOKEN", "admin-token", 1);
    execl(LIFELINE_CLI_BINARY, "lifeline", "events", "--follow", "--type",
          "freeze.", "-o", "json", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::mutex mu;
  std::string line;
  std::thread reader([&] {
    FILE* in = fdopen(fds[0], "r");
    char buf[4096];
    if (in && fgets(buf, sizeof buf, in)) {
      std::lock_guard<std::mutex> lock(mu);
      line = buf;
    }
    if (in) fclose(in);
  });
  // The stream only shows events made after it connected: keep making them
  // until one arrives.
  bool got = WaitUntil([&] {
    Call(server_->port(), "PUT", "/v1/freeze", "admin-token",
         R"({"frozen": true, "reason": "follow"})");
    std::lock_guard<std::mutex> lock(mu);
    return !line.empty();
  });
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  reader.join();
  ASSERT_TRUE(got);
  auto j = json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_EQ(j["type"], "freeze.on");
  EXPECT_EQ(j["message"], "fleet-wide freeze on: follow");
}

}  // namespace
}  // namespace lifeline
