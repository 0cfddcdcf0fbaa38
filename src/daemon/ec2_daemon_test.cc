// The real lifelined with `provider: ec2` against moto_server (an EC2 API
// emulator): it brings a group to capacity, an instance terminated behind
// its back with the AWS CLI is replaced, and both the HTTP API and the
// lifeline CLI show the new instance healthy. Waits are bounded polls of
// the API. Skips only where moto_server or the AWS CLI is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/clock.h"
#include "daemon/lifelined_process.h"
#include "providers/ec2/http.h"
#include "providers/ec2/moto_server.h"

namespace lifeline {
namespace {

using nlohmann::json;

constexpr char kRegion[] = "us-east-1";

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class Ec2DaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ec2::FindOnPath("aws").empty()) {
      skip_ = "the AWS CLI (aws) is not on PATH";
      return;
    }
    auto m = ec2::MotoServer::Start(seconds(60));
    if (m.ok()) {
      moto_ = std::move(m).value().release();
    } else if (m.status().code() == StatusCode::kNotFound) {
      skip_ = m.status().message();
    } else {
      start_error_ = m.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) {
      GTEST_SKIP() << "lifelined on the EC2 emulator skipped: " << skip_;
    }
    ASSERT_NE(moto_, nullptr) << start_error_;
    ASSERT_TRUE(moto_->Reset().ok());
    dir_ = ::testing::TempDir() + "/ec2_daemon_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = FreeLoopbackPort();
    ASSERT_GT(port_, 0);
    image_ =
        Aws("describe-images --owners amazon --filters "
            "Name=root-device-type,Values=ebs --query Images[0].ImageId");
    ASSERT_EQ(image_.rfind("ami-", 0), 0u) << image_;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::ifstream log(dir_ + "/lifelined.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      std::printf("--- lifelined.log ---\n%s\n", text.c_str());
    }
    StopDaemon(SIGKILL);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Aws(const std::string& args) {
    auto out = ec2::AwsCli(moto_->endpoint(), kRegion, args);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }

  // Mirrors examples/ec2-moto.yaml, with shorter timings for a test.
  void WriteConfig() {
    config_ = dir_ + "/lifeline.yaml";
    std::ofstream(config_)
        << "daemon: {state_dir: " << dir_ << "/state, systemd_notify: false}\n"
        << "api: {listen: 127.0.0.1:" << port_ << "}\n"
        << "provider:\n  kind: ec2\n"
        << "  ec2: {region: " << kRegion << ", endpoint: " << moto_->endpoint()
        << "}\n"
        << "controller: {status_poll_interval: 500ms, reconcile_interval: 2s}\n"
        << "safety: {cold_start_grace: 3s}\n"
        << "groups:\n  - name: web\n    desired: 3\n    max: 6\n"
        << "    zones: [us-east-1a, us-east-1b]\n"
        << "    launch:\n      image: " << image_ << "\n"
        << "      instance_type: t3.micro\n"
        << "      tags: {team: payments}\n"
        << "    grace_period: 5s\n"
        << "    checks: {system: true, instance: true, application: false}\n"
        << "    ladder:\n      instance:\n"
        << "        - {action: reboot, max_attempts: 1, timeout: 30s}\n"
        << "        - {action: replace, max_attempts: 3, timeout: 1m}\n"
        << "    replacement_timeout: 1m\n";
  }

  void StartDaemon() {
    // Credentials as an operator would export them for the emulator.
    pid_ = SpawnLifelined(config_, dir_ + "/lifelined.log",
                          {{"AWS_ACCESS_KEY_ID", "test"},
                           {"AWS_SECRET_ACCESS_KEY", "test"},
                           {"AWS_SESSION_TOKEN", nullptr},
                           {"AWS_PROFILE", nullptr},
                           {"AWS_EC2_METADATA_DISABLED", "true"}});
    ASSERT_GT(pid_, 0);
  }
  void StopDaemon(int sig) { StopLifelined(pid_, sig); }
  bool DaemonAlive() {
    return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
  }

  // GET on the API with the admin token; null JSON on any failure.
  json Get(const std::string& path) {
    std::ifstream t(dir_ + "/state/admin.token");
    std::string token;
    t >> token;
    if (token.empty()) return json();
    ec2::HttpRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.headers = {"Authorization: Bearer " + token};
    req.timeout = seconds(5);
    auto r = http_.Perform(req);
    if (!r.ok() || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }

  // The group's instances as the API lists them.
  std::map<std::string, json> Instances() {
    std::map<std::string, json> out;
    json j = Get("/v1/instances?group=web");
    if (!j.is_object() || !j["instances"].is_array()) return out;
    for (const json& i : j["instances"]) out[i["id"]] = i;
    return out;
  }
  // `n` active, running, healthy instances and nothing else, no workflow.
  bool Whole(size_t n) {
    auto all = Instances();
    if (all.size() != n) return false;
    for (const auto& [id, i] : all) {
      if (i["role"] != "active" || i["lifecycle"] != "running" ||
          i["health"] != "healthy" || !i["workflow"].is_null()) {
        return false;
      }
    }
    return true;
  }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit) {
    MonoTime deadline = clock_.Now() + limit;
    while (!pred()) {
      if (clock_.Now() > deadline || !DaemonAlive()) return false;
      std::this_thread::sleep_for(milliseconds(200));  // poll pacing
    }
    return true;
  }

  // Runs the lifeline CLI; returns its stdout.
  std::string Cli(const std::string& args) {
    std::string cmd = std::string(LIFELINE_CLI_PATH) +
                      " --endpoint http://127.0.0.1:" + std::to_string(port_) +
                      " --state-dir " + dir_ + "/state " + args;
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << cmd << "\n" << out;
    return out;
  }

  static inline ec2::MotoServer* moto_ = nullptr;
  static inline std::string skip_;
  static inline std::string start_error_;

  RealClock clock_;
  ec2::CurlHttp http_;
  std::string dir_, config_, image_;
  int port_ = -1;
  pid_t pid_ = -1;
};

TEST_F(Ec2DaemonTest, ReplacesAnInstanceTerminatedBehindItsBack) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Whole(3); }, seconds(120)))
      << "the group did not reach 3 healthy instances: "
      << Get("/v1/instances?group=web").dump();
  std::set<std::string> before;
  for (const auto& [id, i] : Instances()) before.insert(id);
  // What EC2 holds is what lifelined reports.
  EXPECT_EQ(Aws("describe-instances --filters Name=tag:lifeline:group,"
                "Values=web Name=instance-state-name,Values=running "
                "--query 'length(Reservations[].Instances[])'"),
            "3");

  // Past the cold-start grace (the API's status says when the first full
  // view is in), an instance is terminated behind lifelined's back.
  ASSERT_TRUE(WaitFor([&] { return Get("/v1/status").value("ready", false); },
                      seconds(30)));
  const std::string victim = *before.begin();
  Aws("terminate-instances --instance-ids " + victim);

  ASSERT_TRUE(WaitFor(
      [&] {
        auto now = Instances();
        return Whole(3) && !now.count(victim);
      },
      seconds(120)))
      << "not replaced: " << Get("/v1/instances?group=web").dump();
  std::string fresh;
  for (const auto& [id, i] : Instances()) {
    if (!before.count(id)) fresh = id;
  }
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(Aws("describe-instances --instance-ids " + fresh +
                " --query 'Reservations[0].Instances[0].[ImageId,"
                "InstanceType,State.Name]'"),
            image_ + "\tt3.micro\trunning");
  EXPECT_EQ(Aws("describe-instances --instance-ids " + victim +
                " --query 'Reservations[0].Instances[0].State.Name'"),
            "terminated");

  // The CLI shows the new instance, healthy.
  json listed =
      json::parse(Cli("instances list --group web -o json"), nullptr, false);
  ASSERT_TRUE(listed.is_object()) << listed.dump();
  bool seen = false;
  for (const json& i : listed["instances"]) {
    EXPECT_NE(i["id"], victim);
    if (i["id"] == fresh) {
      seen = true;
      EXPECT_EQ(i["health"], "healthy");
      EXPECT_EQ(i["role"], "active");
    }
  }
  EXPECT_TRUE(seen) << listed.dump();
  EXPECT_NE(Cli("instances list --group web").find(fresh), std::string::npos);

  // The history says why.
  json lost = Get("/v1/events?instance=" + victim);
  EXPECT_NE(lost.dump().find("instance.lost"), std::string::npos)
      << lost.dump();
  StopDaemon(SIGTERM);
}

}  // namespace
}  // namespace lifeline
