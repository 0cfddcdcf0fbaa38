// B8: Lifeline itself stalls. Runs the real lifelined (process provider,
// example-app instances sending authenticated heartbeats every 100 ms),
// stops the daemon with SIGSTOP for 0.5 s, 5 s and 30 s, resumes it, and
// counts what it did afterwards to instances that were healthy throughout:
// destructive actions (from its event history), instances it declared
// unhealthy, and instance processes that changed (ground truth from /proc).
//
//   bench_stall [instances=30]      (LIFELINE_B8_STALLS="0.5,5,30")
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "bench/report.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int FreePort(int type) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("bench_stall: free port");
    std::exit(1);
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Pid -> instance id of the live processes started with `marker` as their
// first argument.
std::map<int, std::string> MarkedInstances(const std::string& marker) {
  std::map<int, std::string> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    int pid = std::atoi(e.path().filename().c_str());
    if (pid <= 0) continue;
    std::string cmd = ReadFile(e.path() / "cmdline");
    if (cmd.find(std::string("\0", 1) + marker) == std::string::npos) continue;
    std::string stat = ReadFile(e.path() / "stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() ||
        stat[paren + 2] == 'Z') {
      continue;
    }
    std::string env = ReadFile(e.path() / "environ");
    std::string id;
    std::istringstream vars(env);
    for (std::string kv; std::getline(vars, kv, '\0');) {
      if (kv.rfind("LIFELINE_INSTANCE_ID=", 0) == 0) id = kv.substr(21);
    }
    out[pid] = id;
  }
  return out;
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

class Daemon {
 public:
  Daemon(std::string bin, std::string dir, int instances)
      : bin_(std::move(bin)), dir_(std::move(dir)), instances_(instances) {
    api_port_ = FreePort(SOCK_STREAM);
    int hb_port = FreePort(SOCK_DGRAM);
    marker_ = "b8-" + std::to_string(::getpid());
    std::random_device rd;
    std::ostringstream key;
    for (int i = 0; i < 32; ++i) {
      char b[3];
      std::snprintf(b, sizeof b, "%02x", rd() & 0xff);
      key << b;
    }
    std::ofstream(dir_ + "/hb.key") << key.str() << "\n";
    fs::permissions(dir_ + "/hb.key", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(dir_ + "/lifeline.yaml")
        << "daemon: {state_dir: " << dir_ << "/state, systemd_notify: false,"
        << " log_format: text, log_level: info}\n"
        << "api: {listen: 127.0.0.1:" << api_port_ << "}\n"
        << "provider:\n  kind: process\n"
        << "  process: {zones: [zone-a, zone-b, zone-c], terminate_grace: 1s}\n"
        << "heartbeat:\n  listen: [127.0.0.1:" << hb_port << "]\n"
        << "  interval: 100ms\n  keys: {\"1\": " << dir_ << "/hb.key}\n"
        << "controller: {status_poll_interval: 1s, reconcile_interval: 5s}\n"
        << "safety: {cold_start_grace: 5s}\n"
        << "groups:\n  - name: b8\n    desired: " << instances_
        << "\n    max: " << instances_ * 2
        << "\n    zones: [zone-a, zone-b, zone-c]\n"
        << "    launch: {command: " << bin_ << "/lifeline-example-app, args: [\""
        << marker_ << "\"]}\n"
        << "    grace_period: 10s\n"
        << "    checks: {system: true, instance: true, application: true}\n"
        << "    heartbeat_key_id: \"1\"\n"
        << "    ladder:\n"
        << "      application:\n"
        << "        - {action: reboot, max_attempts: 2, window: 10m, timeout: 30s}\n"
        << "        - {action: replace, max_attempts: 3, window: 1h, timeout: 1m}\n"
        << "      instance:\n"
        << "        - {action: reboot, max_attempts: 2, window: 10m, timeout: 30s}\n"
        << "        - {action: replace, max_attempts: 3, window: 1h, timeout: 1m}\n";
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (const auto& [pid, id] : MarkedInstances(marker_)) ::kill(pid, SIGKILL);
  }

  bool Start() {
    std::string log = dir_ + "/lifelined.log";
    std::string config = dir_ + "/lifeline.yaml";
    std::string exe = bin_ + "/lifelined";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(exe.c_str(), "lifelined", "--config", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid_ > 0 && WaitFor([&] { return fs::exists(dir_ + "/state/admin.token"); },
                               std::chrono::seconds(20));
  }

  Json Get(const std::string& path) {
    httplib::Client c("127.0.0.1", api_port_);
    c.set_read_timeout(5, 0);
    std::string token = ReadFile(dir_ + "/state/admin.token");
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    auto r = c.Get(path, {{"Authorization", "Bearer " + token}});
    if (!r || r->status != 200) return Json();
    return Json::parse(r->body, nullptr, false);
  }

  // Every instance running, heard and healthy, nothing in recovery.
  bool Settled() {
    Json s = Get("/v1/status");
    if (!s.is_object()) return false;
    return s.value("ready", false) && s.value("instances", 0) == instances_ &&
           s.value("unhealthy", -1) == 0 && s.value("suspect", -1) == 0 &&
           s.value("workflows", -1) == 0 &&
           static_cast<int>(MarkedInstances(marker_).size()) == instances_;
  }

  pid_t pid() const { return pid_; }
  const std::string& marker() const { return marker_; }

 private:
  std::string bin_, dir_, marker_;
  int instances_;
  int api_port_ = 0;
  pid_t pid_ = -1;
};

bool IsDestructive(const Json& e) {
  if (e.value("type", "") != "action.started") return false;
  std::string m = e.value("message", "");
  for (const char* op : {"Reboot", "Terminate", "Stop", "Recover", "Launch"}) {
    if (m.rfind(op, 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  int instances = argc > 1 ? std::atoi(argv[1]) : 30;
  std::vector<double> stalls = {0.5, 5, 30};
  if (const char* s = std::getenv("LIFELINE_B8_STALLS")) {
    stalls.clear();
    std::istringstream in(s);
    for (std::string x; std::getline(in, x, ',');) stalls.push_back(std::atof(x.c_str()));
  }
  std::string bin = fs::canonical("/proc/self/exe").parent_path();
  if (!fs::exists(bin + "/lifelined") || !fs::exists(bin + "/lifeline-example-app")) {
    std::fprintf(stderr, "bench_stall: lifelined and lifeline-example-app must be in %s\n",
                 bin.c_str());
    return 1;
  }
  std::string dir = fs::temp_directory_path() / ("lifeline-b8-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  int rc = 0;
  {
    Daemon d(bin, dir, instances);
    std::printf("# B8: lifelined on %d example-app processes, heartbeats every 100 ms;"
                " SIGSTOP of the daemon, then 20 s of watching\n", instances);
    if (!d.Start() || !WaitFor([&] { return d.Settled(); }, std::chrono::seconds(60))) {
      std::fprintf(stderr, "bench_stall: the fleet did not settle; log in %s/lifelined.log\n",
                   dir.c_str());
      return 1;
    }
    for (double stall : stalls) {
      // The fleet must be quiet for a while before each stall.
      WaitFor([&] { return d.Settled(); }, std::chrono::seconds(60));
      std::this_thread::sleep_for(std::chrono::seconds(3));
      auto before = MarkedInstances(d.marker());
      Json last = d.Get("/v1/events?limit=1");
      long after_seq = last.is_object() ? last.value("last_seq", 0L) : 0L;
      ::kill(d.pid(), SIGSTOP);
      std::this_thread::sleep_for(std::chrono::duration<double>(stall));
      ::kill(d.pid(), SIGCONT);
      std::this_thread::sleep_for(std::chrono::seconds(20));
      Json events = d.Get("/v1/events?limit=10000&after=" + std::to_string(after_seq));
      int destructive = 0, unhealthy = 0;
      if (events.is_object()) {
        for (const auto& e : events["events"]) {
          destructive += IsDestructive(e);
          unhealthy += e.value("type", "") == "instance.unhealthy";
        }
      } else {
        std::fprintf(stderr, "bench_stall: no events after the %.1f s stall\n", stall);
        rc = 1;
      }
      auto now = MarkedInstances(d.marker());
      int changed = 0;
      for (const auto& [pid, id] : before) changed += !now.count(pid) || now[pid] != id;
      char label[32];
      std::snprintf(label, sizeof label, "%gs", stall);
      lifeline::bench::Report("B8", std::string("destructive_actions_after_") + label + "_stall",
                              destructive, "actions");
      lifeline::bench::Report("B8", std::string("declared_unhealthy_after_") + label + "_stall",
                              unhealthy, "instances");
      lifeline::bench::Report("B8", std::string("instance_processes_changed_after_") + label +
                                        "_stall",
                              changed, "processes");
    }
  }
  fs::remove_all(dir);
  return rc;
}
