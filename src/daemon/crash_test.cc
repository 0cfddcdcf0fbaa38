// The real lifelined on the process provider, replacing instances:
//   - kill -9 of lifelined in the middle of a replacement, then a restart:
//     the workflow resumes from the store's journal, with no duplicate
//     launch and no orphan, and the instances that were running are
//     re-adopted (same pids, same start times), not started again;
//   - a replacement of an instance whose group declares its data dir with
//     snapshot_on_replace starts with the replaced instance's files.
// Instances are /bin/sleep processes marked by a unique argument.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "controller/workflow.h"
#include "core/clock.h"
#include "daemon/lifelined_process.h"
#include "store/sqlite_store.h"

namespace lifeline {
namespace {

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/daemon_crash_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    marker_ = std::to_string(900000 + ::getpid() % 90000);
    config_ = dir_ + "/lifeline.yaml";
    WriteConfig("{command: /bin/sleep, args: [\"" + marker_ + "\"]}");
  }
  // Three instances of group "crash", replaced when their process dies;
  // `launch` is the group's launch spec in YAML flow style.
  void WriteConfig(const std::string& launch) {
    std::ofstream(config_)
        << "daemon: {state_dir: " << dir_ << "/state, systemd_notify: false}\n"
        << "api: {listen: 127.0.0.1:0}\n"
        << "provider:\n  kind: process\n"
        << "  process: {terminate_grace: 1s}\n"
        << "controller: {status_poll_interval: 300ms, reconcile_interval: 1s}\n"
        << "safety: {cold_start_grace: 1s}\n"
        << "groups:\n  - name: crash\n    desired: 3\n"
        << "    zones: [zone-a, zone-b, zone-c]\n"
        << "    launch: " << launch << "\n"
        << "    grace_period: 1s\n"
        << "    ladder:\n      instance:\n"
        << "        - {action: replace, max_attempts: 5, timeout: 1m}\n";
  }
  void TearDown() override {
    StopDaemon(SIGKILL);
    if (HasFailure()) {
      std::ifstream log(dir_ + "/lifelined.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      std::printf("---- lifelined.log ----\n%s\n", text.c_str());
    }
    for (int pid : MarkedProcesses(marker_)) ::kill(pid, SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  void StartDaemon() {
    pid_ = SpawnLifelined(config_, dir_ + "/lifelined.log");
    ASSERT_GT(pid_, 0);
  }
  void StopDaemon(int sig) { StopLifelined(pid_, sig); }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit, Duration every) {
    return PollUntil(clock_, pred, limit, every, [] { return true; });
  }

  // Journaled workflows, read from lifelined's store while it runs.
  std::vector<Workflow> Journal() {
    SqliteStore::Options o;
    o.path = dir_ + "/state/state.db";
    std::vector<Workflow> out;
    if (!std::filesystem::exists(o.path)) return out;
    auto store = SqliteStore::Open(o);
    if (!store.ok()) return out;
    auto rows = (*store)->List(Namespace::kWorkflows);
    if (!rows.ok()) return out;
    for (const auto& [id, text] : *rows) {
      Workflow w;
      if (ParseWorkflowJson(text, &w).ok()) out.push_back(w);
    }
    return out;
  }

  // Instances the process provider ever created (its counter of instance
  // numbers is never reused, even for terminated instances).
  uint64_t InstancesCreated() {
    std::ifstream in(dir_ + "/state/instances/counters.json");
    if (!in) return 0;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return 0;
    return j.value("instance", uint64_t{1}) - 1;
  }

  // A process as the provider records it: pid and start time (field 22 of
  // /proc/<pid>/stat), which together name one process for good.
  struct Proc {
    int pid = 0;
    uint64_t start_time = 0;
    bool operator==(const Proc&) const = default;
    friend std::ostream& operator<<(std::ostream& os, const Proc& p) {
      return os << "pid " << p.pid << " start " << p.start_time;
    }
  };
  // Start time of a live (not zombie) process, nullopt when there is none.
  static std::optional<uint64_t> StartTimeOf(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    size_t paren = s.rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream fields(s.substr(paren + 2));
    std::string f;
    for (int field = 3; field <= 22 && fields >> f; ++field) {
      if (field == 3 && (f == "Z" || f == "X")) return std::nullopt;
      if (field == 22) return std::stoull(f);
    }
    return std::nullopt;
  }
  // Instances whose recorded process is alive, by id: the record's pid runs
  // with the record's start time.
  std::map<std::string, Proc> RunningInstances() {
    std::map<std::string, Proc> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(
             dir_ + "/state/instances/instances", ec)) {
      if (e.path().extension() != ".json") continue;
      std::ifstream in(e.path());
      auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.value("pid", 0)) continue;
      Proc p{j["pid"].get<int>(), j.value("start_time", uint64_t{0})};
      if (StartTimeOf(p.pid) == p.start_time) out[j.value("id", "")] = p;
    }
    return out;
  }
  std::string DataDir(const std::string& id) {
    return dir_ + "/state/instances/data/" + id;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  RealClock clock_;
  std::string dir_, config_, marker_;
  pid_t pid_ = -1;
};

TEST_F(CrashTest, KillNineMidReplacementResumesWithoutDuplicatesOrOrphans) {
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return MarkedProcesses(marker_).size() == 3; },
                      std::chrono::seconds(60), std::chrono::milliseconds(50)))
      << MarkedProcesses(marker_).size();
  ASSERT_TRUE(WaitFor([&] { return Journal().empty(); },
                      std::chrono::seconds(30), std::chrono::milliseconds(50)));
  ASSERT_EQ(InstancesCreated(), uint64_t{3});
  const std::map<std::string, Proc> originals = RunningInstances();
  ASSERT_EQ(originals.size(), size_t{3});

  // The instance dies; lifelined starts replacing it.
  const auto& [victim_id, victim] = *originals.begin();
  ASSERT_EQ(::kill(victim.pid, SIGKILL), 0);
  bool caught = WaitFor(
      [&] {
        for (const auto& w : Journal()) {
          if (w.kind == WorkflowKind::kRecovery &&
              (w.state == WorkflowState::kLaunching ||
               w.state == WorkflowState::kAwaitingReplacement ||
               w.state == WorkflowState::kMovingResources ||
               w.state == WorkflowState::kTerminatingOld)) {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(2));
  ASSERT_TRUE(caught) << "no replacement seen in the journal";
  StopDaemon(SIGKILL);  // kill -9 mid-replacement
  ASSERT_FALSE(Journal().empty());
  // What runs while lifelined is down: the two survivors, unchanged, and
  // the replacement if its process was already started.
  const std::map<std::string, Proc> running = RunningInstances();
  for (const auto& [id, proc] : originals) {
    if (id == victim_id) {
      EXPECT_EQ(running.count(id), size_t{0}) << id;
    } else {
      EXPECT_EQ(running.count(id) ? running.at(id) : Proc{}, proc) << id;
    }
  }

  StartDaemon();
  // The resumed workflow finishes; three instances run, none extra.
  ASSERT_TRUE(WaitFor(
      [&] { return Journal().empty() && MarkedProcesses(marker_).size() == 3; },
      std::chrono::seconds(90), std::chrono::milliseconds(50)))
      << "workflows " << Journal().size() << ", processes "
      << MarkedProcesses(marker_).size();
  // One replacement, launched with the workflow's token. When the kill
  // lands inside the provider's Launch, the instance number it had taken is
  // spent on a launch that never completed (no process is left of it: the
  // count of marked processes above is 3) and the resumed workflow's launch
  // takes the next one: 4 or 5 numbers, never a second running replacement.
  uint64_t created = InstancesCreated();
  EXPECT_GE(created, uint64_t{4});
  EXPECT_LE(created, uint64_t{5});
  // Stable: nothing else is launched or left running over a few polls.
  EXPECT_FALSE(WaitFor([&] { return MarkedProcesses(marker_).size() != 3; },
                       std::chrono::seconds(3),
                       std::chrono::milliseconds(100)));
  EXPECT_EQ(InstancesCreated(), created);
  // Every instance that ran while lifelined was down was re-adopted: same
  // id, same pid, same start time. Only an instance without a process then
  // (the replacement, when the kill came before its spawn) has a new one.
  const std::map<std::string, Proc> after = RunningInstances();
  EXPECT_EQ(after.size(), size_t{3});
  for (const auto& [id, proc] : running) {
    EXPECT_EQ(after.count(id) ? after.at(id) : Proc{}, proc)
        << id << " was running with pid " << proc.pid;
  }
  std::set<int> marked = MarkedProcesses(marker_);
  size_t started_since = 0;
  for (const auto& [id, proc] : after) {
    EXPECT_EQ(marked.count(proc.pid), size_t{1}) << id;
    started_since += running.count(id) == 0;
  }
  EXPECT_EQ(started_since, size_t{3} - running.size());
  EXPECT_EQ(after.count(victim_id), size_t{0});
  StopDaemon(SIGTERM);
}

// The group declares its instances' data dir (device `data`) with
// snapshot_on_replace: when an instance dies, lifelined snapshots its data
// dir and the replacement, a new instance id, starts from that copy.
TEST_F(CrashTest, AReplacementStartsWithTheDataDirOfTheInstanceItReplaces) {
  // A first lifetime writes its id to `origin`; a process that finds
  // `origin` at start copies it to `inherited`, then both sleep.
  WriteConfig(
      "{command: /bin/sh, args: [-c, \"if [ -f origin ]; then cp origin "
      "inherited; else echo $LIFELINE_INSTANCE_ID > origin; fi; exec "
      "/bin/sleep " +
      marker_ + "\"], volumes: [{device: data, snapshot_on_replace: true}]}");
  StartDaemon();
  std::map<std::string, Proc> originals;
  ASSERT_TRUE(WaitFor(
      [&] {
        originals = RunningInstances();
        return originals.size() == 3 && MarkedProcesses(marker_).size() == 3 &&
               Journal().empty();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)));
  const auto& [victim_id, victim] = *originals.begin();
  ASSERT_EQ(ReadFile(DataDir(victim_id) + "/origin"), victim_id + "\n");
  // Data written after the start is in the snapshot too.
  std::ofstream(DataDir(victim_id) + "/table") << "row 1\n";

  ASSERT_EQ(::kill(victim.pid, SIGKILL), 0);
  std::string replacement;
  ASSERT_TRUE(WaitFor(
      [&] {
        replacement.clear();
        std::map<std::string, Proc> now = RunningInstances();
        for (const auto& [id, proc] : now) {
          if (!originals.count(id)) replacement = id;
        }
        return !replacement.empty() && now.size() == 3 && Journal().empty() &&
               MarkedProcesses(marker_).size() == 3;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50)))
      << "replacement '" << replacement << "'";
  EXPECT_NE(replacement, victim_id);
  std::string data = DataDir(replacement);
  // `inherited` is written by the replacement's own process before it
  // sleeps: the files were there when it started.
  EXPECT_EQ(ReadFile(data + "/inherited"), victim_id + "\n");
  EXPECT_EQ(ReadFile(data + "/table"), "row 1\n");
  // The replaced instance is gone, data dir and all.
  EXPECT_FALSE(std::filesystem::exists(DataDir(victim_id)));
  EXPECT_EQ(InstancesCreated(), uint64_t{4});
  // The other two were not touched.
  std::map<std::string, Proc> now = RunningInstances();
  for (const auto& [id, proc] : originals) {
    if (id != victim_id) EXPECT_EQ(now.count(id) ? now.at(id) : Proc{}, proc);
  }
  StopDaemon(SIGTERM);
}

}  // namespace
}  // namespace lifeline
