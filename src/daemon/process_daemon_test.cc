// End to end: the real lifelined on the process provider, supervising four
// copies of the example app (examples/apps) that send heartbeats every
// 100 ms. Everything is observed from outside, through the HTTP API, the
// provider's instance records and /proc:
//   - kill -9 of an instance's process: detected at once (pidfd), the
//     instance is restarted under the same id and is healthy again;
//   - SIGSTOP of an instance: its heartbeats stop, it is declared failed by
//     the heartbeat detector and the ladder reboots it (SIGTERM + SIGCONT,
//     then a new process); healthy again.
// After each, exactly four example-app processes of this test run, and the
// API lists four instances: nothing duplicated, nothing left over.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "core/clock.h"
#include "daemon/lifelined_process.h"

namespace lifeline {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kInstances = 4;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

int FreePort(int type) {
  int fd = ::socket(AF_INET, type, 0);
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

class ProcessDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/process_daemon_test_" +
           std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    marker_ = "process-daemon-test-" + std::to_string(::getpid());
    api_port_ = FreePort(SOCK_STREAM);
    std::string key = dir_ + "/demo.key";
    std::ofstream(key) << std::string(64, 'a') << "\n";
    ::chmod(key.c_str(), 0600);
    config_ = dir_ + "/lifeline.yaml";
    std::ofstream(config_)
        << "daemon: {state_dir: " << dir_
        << "/state, systemd_notify: false, log_level: debug}\n"
        << "api: {listen: 127.0.0.1:" << api_port_ << "}\n"
        << "provider:\n  kind: process\n"
        << "  process: {zones: [zone-a, zone-b], terminate_grace: 1s}\n"
        << "heartbeat:\n  listen: [127.0.0.1:" << FreePort(SOCK_DGRAM)
        << "]\n  interval: 100ms\n  keys: {\"1\": " << key
        << "}\n"
        // The /proc poll runs once at start and then not within the test,
        // so a hang is first seen through the heartbeats (which then ask
        // the provider at once: controller.suspect_check_interval).
        << "controller: {status_poll_interval: 60s, reconcile_interval: 2s, "
           "recovery_stable: 1s}\n"
        << "safety: {cold_start_grace: 1s}\n"
        << "groups:\n  - name: demo\n    desired: " << kInstances << "\n"
        << "    zones: [zone-a, zone-b]\n"
        << "    launch: {command: " << EXAMPLE_APP_PATH << ", args: [\""
        << marker_ << "\"]}\n"
        << "    grace_period: 2s\n"
        << "    checks: {system: true, instance: true, application: true}\n"
        << "    heartbeat_key_id: \"1\"\n"
        << "    ladder:\n"
        << "      instance:\n"
        << "        - {action: reboot, max_attempts: 2, window: 10m, timeout: "
           "10s}\n"
        << "        - {action: replace, max_attempts: 3, window: 1h, timeout: "
           "30s}\n"
        << "      application:\n"
        << "        - {action: reboot, max_attempts: 2, window: 10m, timeout: "
           "10s}\n"
        << "        - {action: replace, max_attempts: 3, window: 1h, timeout: "
           "30s}\n"
        << "    safety: {max_in_recovery: 2, require_agreement: true}\n";
  }

  void TearDown() override {
    StopDaemon();
    for (int pid : MarkedProcesses(marker_)) ::kill(pid, SIGKILL);
    if (HasFailure()) {
      std::cerr << "lifelined log:\n" << ReadAll(dir_ + "/lifelined.log");
    }
    std::filesystem::remove_all(dir_);
  }

  void StartDaemon() {
    pid_ = SpawnLifelined(config_, dir_ + "/lifelined.log");
    ASSERT_GT(pid_, 0);
  }
  void StopDaemon() { StopLifelined(pid_, SIGKILL); }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit) {
    return PollUntil(clock_, pred, limit, milliseconds(50),
                     [] { return true; });
  }

  std::optional<json> Get(const std::string& path) {
    if (token_.empty()) {
      token_ = ReadAll(dir_ + "/state/admin.token");
      while (!token_.empty() && std::isspace(token_.back())) token_.pop_back();
      if (token_.empty()) return std::nullopt;
    }
    httplib::Client c("127.0.0.1", api_port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(2);
    auto r = c.Get(path, {{"Authorization", "Bearer " + token_}});
    if (!r || r->status != 200) return std::nullopt;
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  }

  std::vector<std::string> InstanceIds() {
    std::vector<std::string> ids;
    auto j = Get("/v1/instances?group=demo");
    if (!j) return ids;
    for (const auto& i : (*j)["instances"]) ids.push_back(i["id"]);
    return ids;
  }

  // Four instances, every one healthy with its heartbeats ok, no workflow
  // open, and four example-app processes running.
  bool Settled() {
    auto status = Get("/v1/status");
    if (!status || !(*status)["ready"].get<bool>() ||
        (*status)["instances"] != kInstances || (*status)["workflows"] != 0) {
      return false;
    }
    for (const std::string& id : InstanceIds()) {
      auto i = Get("/v1/instances/" + id);
      if (!i || (*i)["health"] != "healthy" ||
          (*i)["checks"]["application"]["health"] != "ok" ||
          (*i)["lifecycle"] != "running") {
        return false;
      }
    }
    return MarkedProcesses(marker_).size() == kInstances;
  }

  // The process provider's record of the instance: its current pid.
  int PidOf(const std::string& id) {
    json j = json::parse(
        ReadAll(dir_ + "/state/instances/instances/" + id + ".json"), nullptr,
        false);
    if (j.is_discarded() || !j.contains("pid") || j["pid"].is_null()) return 0;
    return j["pid"].get<int>();
  }

  // Types of the instance's history events, oldest first, after `after`.
  std::vector<json> Events(const std::string& id, uint64_t after) {
    auto j = Get("/v1/events?instance=" + id +
                 "&limit=1000&after=" + std::to_string(after));
    std::vector<json> out;
    if (j) {
      for (const auto& e : (*j)["events"]) out.push_back(e);
    }
    return out;
  }
  uint64_t LastSeq() {
    auto j = Get("/v1/events?limit=1");
    return j ? (*j)["last_seq"].get<uint64_t>() : 0;
  }

  // An in-place restart of `id` (Reboot, or Start of a process found dead),
  // as opposed to a Launch of a replacement or a Terminate.
  static bool IsRestartOf(const json& action, const std::string& id) {
    const std::string& m = action["message"].get_ref<const std::string&>();
    return m == "Reboot(" + id + ")" || m == "Start(" + id + ")";
  }

  static size_t IndexOf(const std::vector<json>& events,
                        const std::string& type, size_t from = 0) {
    for (size_t i = from; i < events.size(); ++i) {
      if (events[i]["type"] == type) return i;
    }
    return std::string::npos;
  }

  RealClock clock_;
  std::string dir_, config_, marker_, token_;
  int api_port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(ProcessDaemonTest, KillNineAndSigstopAreRecoveredWithoutDuplicates) {
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(30)))
      << "processes " << MarkedProcesses(marker_).size();
  const std::vector<std::string> ids = InstanceIds();
  ASSERT_EQ(ids.size(), size_t{kInstances});

  // (a) kill -9: the same instance id runs again in a new process.
  const std::string killed = ids[0];
  const int killed_pid = PidOf(killed);
  ASSERT_GT(killed_pid, 0);
  uint64_t before = LastSeq();
  ASSERT_EQ(::kill(killed_pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        int now = PidOf(killed);
        return now > 0 && now != killed_pid && Settled();
      },
      seconds(20)))
      << "pid " << PidOf(killed);
  std::vector<json> ev = Events(killed, before);
  size_t unhealthy = IndexOf(ev, "instance.unhealthy");
  ASSERT_NE(unhealthy, std::string::npos);
  EXPECT_EQ(ev[unhealthy]["evidence"]["signals"], "instance_check");
  size_t started = IndexOf(ev, "recovery.started", unhealthy);
  ASSERT_NE(started, std::string::npos);
  // The ladder's first rung, reboot: the provider reports the dead
  // process as stopped, so the controller starts it again in place.
  EXPECT_NE(ev[started]["message"].get<std::string>().find("plan: reboot"),
            std::string::npos)
      << ev[started].dump();
  size_t action = IndexOf(ev, "action.started", started);
  ASSERT_NE(action, std::string::npos);
  EXPECT_TRUE(IsRestartOf(ev[action], killed)) << ev[action].dump();
  EXPECT_NE(IndexOf(ev, "instance.healthy", action), std::string::npos);
  EXPECT_NE(IndexOf(ev, "recovery.succeeded", action), std::string::npos);
  EXPECT_EQ(InstanceIds(), ids);  // restarted in place: same ids

  // (b) SIGSTOP: alive as far as the kernel cares, silent to Lifeline.
  const std::string hung = ids[1];
  const int hung_pid = PidOf(hung);
  ASSERT_GT(hung_pid, 0);
  before = LastSeq();
  ASSERT_EQ(::kill(hung_pid, SIGSTOP), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        int now = PidOf(hung);
        return now > 0 && now != hung_pid && Settled();
      },
      seconds(20)))
      << "pid " << PidOf(hung);
  ev = Events(hung, before);
  unhealthy = IndexOf(ev, "instance.unhealthy");
  ASSERT_NE(unhealthy, std::string::npos);
  // Noticed by the heartbeats first: either the detector declares it
  // failed, or its suspicion has the provider look at once, and /proc
  // shows the process stopped (state T) — long before the next poll.
  const std::string signals =
      ev[unhealthy]["evidence"]["signals"].get<std::string>();
  EXPECT_TRUE(signals.find("heartbeat") != std::string::npos ||
              (signals == "instance_check" &&
               IndexOf(ev, "instance.suspect") < unhealthy))
      << ev[unhealthy].dump();
  started = IndexOf(ev, "recovery.started", unhealthy);
  ASSERT_NE(started, std::string::npos);
  EXPECT_NE(IndexOf(ev, "recovery.approved", started), std::string::npos);
  EXPECT_NE(ev[started]["message"].get<std::string>().find("plan: reboot"),
            std::string::npos)
      << ev[started].dump();
  action = IndexOf(ev, "action.started", started);
  ASSERT_NE(action, std::string::npos);
  EXPECT_EQ(ev[action]["message"], "Reboot(" + hung + ")") << ev[action].dump();
  EXPECT_NE(IndexOf(ev, "instance.healthy", action), std::string::npos);
  EXPECT_NE(IndexOf(ev, "recovery.succeeded", action), std::string::npos);
  // The stopped process was ended, not left behind frozen.
  EXPECT_EQ(MarkedProcesses(marker_).count(hung_pid), size_t{0});
  EXPECT_EQ(InstanceIds(), ids);
  EXPECT_EQ(MarkedProcesses(marker_).size(), size_t{kInstances});
  StopDaemon();
}

// An instance that has run past its grace period and is restarted in place
// after kill -9 faster than the heartbeat detector notices the silence must
// be seen healthy once its new process heartbeats, and stay so past the
// grace period that follows the restart: nothing else happens to it. (The
// controller forgets the application's health on a restart and waits to
// hear from it afresh; the detector, which saw no silence, must still let
// it know.)
TEST_F(ProcessDaemonTest, InstanceRestartedAfterKillNineStaysHealthyPastGrace) {
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Settled(); }, seconds(30)));
  const std::string killed = InstanceIds()[0];
  // Older than the group's 2 s grace period, as a long-running instance is.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto i = Get("/v1/instances/" + killed);
        return i && (*i)["age_seconds"].get<double>() > 3.0;
      },
      seconds(10)));
  const int killed_pid = PidOf(killed);
  ASSERT_GT(killed_pid, 0);
  uint64_t before = LastSeq();
  ASSERT_EQ(::kill(killed_pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        int now = PidOf(killed);
        return now > 0 && now != killed_pid;
      },
      seconds(10)));
  const int restarted_pid = PidOf(killed);
  // The group's grace period is 2 s; give it 4 s, then look.
  MonoTime until = clock_.Now() + seconds(4);
  WaitFor([&] { return clock_.Now() > until; }, seconds(5));
  std::vector<json> ev = Events(killed, before);
  size_t first = IndexOf(ev, "recovery.started");
  ASSERT_NE(first, std::string::npos);
  size_t again = IndexOf(ev, "recovery.started", first + 1);
  EXPECT_EQ(again, std::string::npos)
      << "recovered a second time: " << ev[again].dump();
  auto detail = Get("/v1/instances/" + killed);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ((*detail)["health"], "healthy") << detail->dump();
  EXPECT_EQ((*detail)["checks"]["application"]["health"], "ok")
      << detail->dump();
  EXPECT_EQ(PidOf(killed), restarted_pid);
}

}  // namespace
}  // namespace lifeline
