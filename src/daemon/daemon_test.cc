// The Daemon in-process on the sim provider, with a real loop thread.
#include "daemon/daemon.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/config_loader.h"
#include "daemon/daemon_test_util.h"

namespace lifeline {
namespace {

std::string SimYaml(const std::string& state_dir, int desired) {
  return "daemon:\n"
         "  state_dir: " +
         state_dir +
         "\n"
         "  systemd_notify: false\n"
         "provider:\n"
         "  kind: sim\n"
         "  sim:\n"
         "    latency:\n"
         "      launch: 10ms\n"
         "      boot: 50ms\n"
         "      terminate: 10ms\n"
         "      describe_status: 5ms\n"
         "      list_instances: 5ms\n"
         "      list_zones: 5ms\n"
         "    populate:\n"
         "      - {group: batch, count: 30}\n"
         "controller:\n"
         "  status_poll_interval: 200ms\n"
         "  reconcile_interval: 200ms\n"
         "groups:\n"
         "  - name: web\n"
         "    desired: " +
         std::to_string(desired) +
         "\n"
         "    max: 20\n"
         "    zones: [sim-1a, sim-1b, sim-1c]\n"
         "    launch: {image: img-1}\n"
         "  - name: batch\n"
         "    desired: 30\n"
         "    zones: [sim-1a, sim-1b, sim-1c]\n"
         "    launch: {image: img-2}\n";
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/daemon_test_" +
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
    if (daemon_) daemon_->Stop();
    daemon_.reset();
    if (HasFailure()) std::printf("%s", logs_.str().c_str());
    std::filesystem::remove_all(dir_);
  }

  void WriteConfig(const std::string& text) {
    std::ofstream(config_path_) << text;
  }

  void StartDaemon(int desired) {
    WriteConfig(SimYaml(dir_ + "/state", desired));
    auto c = LoadConfigFile(config_path_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto d = Daemon::Create(*c, *log_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    daemon_ = std::move(d).value();
    waiter_.Listen(daemon_->history());
    ASSERT_TRUE(daemon_->Start().ok());
  }

  // Active instances of a group, read on the loop.
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

  // Waits (at most `limit`) until pred() holds, re-checked on every
  // history event of the daemon (HistoryWaiter).
  template <class Pred>
  bool WaitFor(Pred pred, Duration limit = std::chrono::seconds(20)) {
    return waiter_.WaitFor(pred, limit);
  }

  RealClock clock_;
  std::ostringstream logs_;
  std::unique_ptr<DaemonLog> log_;
  std::string dir_, config_path_;
  HistoryWaiter waiter_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, ReachesDesiredCapacityAndAdoptsThePopulatedFleet) {
  StartDaemon(6);
  EXPECT_TRUE(WaitFor([&] { return Active("web") == 6; })) << Active("web");
  EXPECT_TRUE(WaitFor([&] { return daemon_->Ready(); }));
  EXPECT_EQ(Active("batch"), 30);
  auto created = daemon_->RunOnLoop(
      [&] { return daemon_->sim_provider()->instances_created(); });
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(*created, 36u);  // 30 populated + 6 launched, none for batch
  std::string metrics = daemon_->MetricsText();
  EXPECT_NE(metrics.find("lifeline_instances{group=\"web\",state=\"active\","
                         "zone=\"sim-1a\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("lifeline_ready 1"), std::string::npos);
  EXPECT_NE(metrics.find("lifeline_loop_lag_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.find("lifeline_history_total{what=\"appended\"}"),
            std::string::npos);
  // The history is logged too.
  EXPECT_NE(logs_.str().find("event=group.created"), std::string::npos);
}

TEST_F(DaemonTest, ReloadAppliesGroupChanges) {
  StartDaemon(3);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; }));
  WriteConfig(SimYaml(dir_ + "/state", 9));
  ASSERT_TRUE(daemon_->Reload().ok());
  EXPECT_TRUE(WaitFor([&] { return Active("web") == 9; })) << Active("web");
  EXPECT_EQ(daemon_->current_config()->groups[0].desired, 9);
}

TEST_F(DaemonTest, BrokenFileOnReloadKeepsTheRunningConfig) {
  StartDaemon(3);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; }));
  std::string broken = SimYaml(dir_ + "/state", 9);
  broken.replace(broken.find("desired: 9"), 10, "desired: nine");
  WriteConfig(broken);
  Status s = daemon_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("groups[0].desired: expected an integer"),
            std::string::npos)
      << s.message();
  EXPECT_NE(logs_.str().find("reload failed; keeping the running config"),
            std::string::npos);
  EXPECT_EQ(daemon_->current_config()->groups[0].desired, 3);
  // Still running and still at the old capacity.
  EXPECT_EQ(Active("web"), 3);
  auto spec = daemon_->RunOnLoop(
      [&] { return daemon_->controller().group("web")->desired; });
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(*spec, 3);
}

TEST_F(DaemonTest, RunOnLoopReportsAStoppedDaemon) {
  StartDaemon(0);
  daemon_->Stop();
  bool ran = false;
  Status s = daemon_->RunOnLoop([&] { ran = true; });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(ran);
}

TEST_F(DaemonTest, WorkflowsAndHistoryPersistInTheStateDir) {
  StartDaemon(3);
  ASSERT_TRUE(WaitFor([&] { return Active("web") == 3; }));
  daemon_->Stop();
  uint64_t committed = daemon_->durable_history().stats().last_committed_seq;
  EXPECT_GT(committed, 0u);
  daemon_.reset();
  // A second daemon on the same state dir continues the history seqs.
  auto c = LoadConfigFile(config_path_);
  ASSERT_TRUE(c.ok());
  auto d = Daemon::Create(*c, *log_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  HistoryEvent e;
  e.type = "test.event";
  EXPECT_EQ((*d)->history().Append(e), committed + 1);
}

TEST(ParseListenAddress, SplitsHostAndPort) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:9440", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9440);
  EXPECT_FALSE(ParseListenAddress("nowhere", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress(":80", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress("h:99999", &host, &port).ok());
}

}  // namespace
}  // namespace lifeline
