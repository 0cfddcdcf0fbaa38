// kill -9 of lifelined in the middle of a replacement, then a restart: the
// workflow resumes from the store's journal, with no duplicate launch and
// no orphan. Runs the real binary on the process provider; instances are
// /bin/sleep processes marked by a unique argument.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
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
    std::ofstream(config_)
        << "daemon: {state_dir: " << dir_ << "/state, systemd_notify: false}\n"
        << "api: {listen: 127.0.0.1:0}\n"
        << "provider:\n  kind: process\n"
        << "  process: {terminate_grace: 1s}\n"
        << "controller: {status_poll_interval: 300ms, reconcile_interval: 1s}\n"
        << "safety: {cold_start_grace: 1s}\n"
        << "groups:\n  - name: crash\n    desired: 3\n"
        << "    zones: [zone-a, zone-b, zone-c]\n"
        << "    launch: {command: /bin/sleep, args: [\"" << marker_ << "\"]}\n"
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
    MonoTime deadline = clock_.Now() + limit;
    while (!pred()) {
      if (clock_.Now() > deadline) return false;
      std::this_thread::sleep_for(every);
    }
    return true;
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

  // The instance dies; lifelined starts replacing it.
  int victim = *MarkedProcesses(marker_).begin();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
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
  StopDaemon(SIGTERM);
}

}  // namespace
}  // namespace lifeline
