// ProcessProvider lifecycle with real processes: launch, exit detection,
// stopped processes, reboot, stop/start, terminate.
#include "providers/process/process_provider.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "providers/process/provider_fixture.h"

namespace lifeline::process {
namespace {

namespace fs = std::filesystem;

TEST_F(ProcessProviderTest, LaunchRunsTheCommandWithTheInstanceEnvironment) {
  MakeProvider();
  LaunchSpec spec = Shell(
      "env > env.tmp && pwd >> env.tmp && "
      "mv env.tmp env.txt && exec sleep 1000");
  spec.env = {{"APP_MODE", "test"}};
  auto info = Launch(Request(spec));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, "web-a-1");
  EXPECT_EQ(info->zone, "zone-a");
  EXPECT_EQ(info->host, "local");
  EXPECT_EQ(info->lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(info->tags.at(std::string(kGroupTag)), "web");

  std::string data = DataDir(info->id);
  ASSERT_TRUE(WaitForFile(data + "/env.txt"));
  std::string env = ReadFile(data + "/env.txt");
  for (const std::string& line : std::vector<std::string>{
           "LIFELINE_INSTANCE_ID=web-a-1", "LIFELINE_GROUP=web",
           "LIFELINE_ZONE=zone-a", "LIFELINE_DATA_DIR=" + data,
           "LIFELINE_HEARTBEAT_ADDR=127.0.0.1:7070",
           "LIFELINE_HEARTBEAT_KEY_FILE=/etc/lifeline/hb.key",
           "LIFELINE_HEARTBEAT_KEY_ID=1", "LIFELINE_HEARTBEAT_INTERVAL=250ms",
           "APP_MODE=test", "\n" + data}) {
    EXPECT_NE(env.find(line), std::string::npos) << line << " in\n" << env;
  }
  InstanceStatus s = StatusOf(info->id);
  EXPECT_EQ(s.lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(s.instance_check, CheckState::kOk);
  EXPECT_EQ(s.system_check, CheckState::kOk);

  // A group with its own heartbeat key gets that key.
  LaunchRequest api = Request(spec);
  api.group = "api";
  auto other = Launch(api);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::string api_data = DataDir(other->id);
  ASSERT_TRUE(WaitForFile(api_data + "/env.txt"));
  std::string api_env = ReadFile(api_data + "/env.txt");
  EXPECT_NE(api_env.find("LIFELINE_HEARTBEAT_KEY_FILE=/etc/lifeline/api.key\n"),
            std::string::npos);
  EXPECT_NE(api_env.find("LIFELINE_HEARTBEAT_KEY_ID=7\n"), std::string::npos);
}

TEST_F(ProcessProviderTest, LaunchIsIdempotentByToken) {
  MakeProvider();
  auto first = Launch(Request(Shell("exec sleep 1000"), "token-1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = Launch(Request(Shell("exec sleep 1000"), "token-1"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(List("web").size(), 1u);

  auto different = Launch(Request(Shell("exec sleep 999"), "token-1"));
  EXPECT_EQ(different.status().code(), StatusCode::kInvalidArgument);

  // Ids are never reused, and a terminated instance's token still names it.
  ASSERT_TRUE(Terminate(first->id).ok());
  auto after = Launch(Request(Shell("exec sleep 1000"), "token-1"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->id, first->id);
  EXPECT_EQ(after->lifecycle, Lifecycle::kTerminated);
  auto fresh = Launch(Request(Shell("exec sleep 1000"), "token-2", "zone-b"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->id, "web-b-2");
}

TEST_F(ProcessProviderTest, ALaunchThatCannotSpawnLeavesNothingBehind) {
  MakeProvider();
  LaunchSpec spec;
  spec.command = "/nonexistent/lifeline-test-binary";
  auto info = Launch(Request(spec, "token-bad"));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(info.status().message().find("lifeline-test-binary"),
            std::string::npos);
  EXPECT_TRUE(List("").empty());
  EXPECT_TRUE(fs::is_empty(config_.state_dir + "/instances"));
  EXPECT_TRUE(fs::is_empty(config_.state_dir + "/tokens"));

  auto bad_zone = Launch(Request(Shell("true"), "", "zone-x"));
  EXPECT_EQ(bad_zone.status().code(), StatusCode::kInvalidArgument);
  LaunchRequest bad_group = Request(Shell("true"));
  bad_group.group = "../etc";
  EXPECT_EQ(Launch(bad_group).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProcessProviderTest, AKilledProcessIsReportedAtOnceThroughTheSink) {
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(
      WaitForEvent(info->id, Lifecycle::kStopped, CheckState::kImpaired));
  InstanceStatus s = StatusOf(info->id);
  EXPECT_EQ(s.lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(s.instance_check, CheckState::kImpaired);
  EXPECT_EQ(Pid(info->id), 0);
  // Reaped, not left as a zombie: waiting on it finds no child.
  siginfo_t wi{};
  EXPECT_NE(
      waitid(P_PIDFD, static_cast<id_t>(PidfdOf(pid)), &wi, WEXITED | WNOHANG),
      0);
  // Reboot brings a crashed instance back.
  ASSERT_TRUE(Reboot(info->id).ok());
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kRunning);
}

TEST_F(ProcessProviderTest, AStoppedProcessIsReportedImpaired) {
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  EXPECT_TRUE(WaitForCheck(info->id, CheckState::kImpaired));
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kRunning);
  ASSERT_EQ(kill(pid, SIGCONT), 0);
  EXPECT_TRUE(WaitForCheck(info->id, CheckState::kOk));
}

TEST_F(ProcessProviderTest, RebootRestartsTheSameInstanceWithItsDataDir) {
  MakeProvider();
  auto info = Launch(
      Request(Shell("echo boot >> boots; echo up > up.$$; exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  std::string data = DataDir(info->id);
  int first_pid = Pid(info->id);
  ASSERT_TRUE(WaitForFile(data + "/up." + std::to_string(first_pid)));
  ASSERT_TRUE(Reboot(info->id).ok());
  int second_pid = Pid(info->id);
  EXPECT_NE(second_pid, first_pid);
  EXPECT_TRUE(Exited(PidfdOf(first_pid)));
  ASSERT_TRUE(WaitForFile(data + "/up." + std::to_string(second_pid)));
  EXPECT_EQ(ReadFile(data + "/boots"), "boot\nboot\n");
  EXPECT_EQ(DataDir(info->id), data);
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kRunning);
  ASSERT_TRUE(WaitForEvent(info->id, Lifecycle::kRunning, CheckState::kOk));

  ASSERT_TRUE(
      loop_.Call<Status>([&](auto done) { provider_->Recover(info->id, done); })
          .ok());
  EXPECT_NE(Pid(info->id), second_pid);
  Track(info->id);
  EXPECT_TRUE(WaitForFile(data + "/up." + std::to_string(Pid(info->id))));
}

TEST_F(ProcessProviderTest, StopKeepsTheRecordAndStartRunsItAgain) {
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  ASSERT_TRUE(Stop(info->id).ok());
  EXPECT_TRUE(Exited(PidfdOf(pid)));
  InstanceStatus s = StatusOf(info->id);
  EXPECT_EQ(s.lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(s.instance_check, CheckState::kUnknown);  // stopped on purpose
  EXPECT_TRUE(
      WaitForEvent(info->id, Lifecycle::kStopped, CheckState::kUnknown));
  EXPECT_EQ(Reboot(info->id).code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Start(info->id).ok());
  EXPECT_GT(Pid(info->id), 0);
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kRunning);
  EXPECT_TRUE(Start(info->id).ok());  // already running

  // Launched stopped (a warm-pool standby): no process until Start.
  LaunchRequest standby = Request(Shell("exec sleep 1000"));
  standby.stopped = true;
  auto warm = Launch(standby);
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(Pid(warm->id), 0);
  ASSERT_TRUE(Start(warm->id).ok());
  EXPECT_EQ(StatusOf(warm->id).lifecycle, Lifecycle::kRunning);
}

TEST_F(ProcessProviderTest, TerminateEscalatesToSigkillWhenSigtermIsIgnored) {
  MakeProvider();
  auto info = Launch(Request(Shell("trap '' TERM; exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  std::string data = DataDir(info->id);
  MonoTime before = loop_.clock().Now();
  ASSERT_TRUE(Terminate(info->id).ok());
  EXPECT_GE(loop_.clock().Now() - before, config_.terminate_grace);
  EXPECT_TRUE(Exited(PidfdOf(pid)));
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kTerminated);
  EXPECT_TRUE(
      WaitForEvent(info->id, Lifecycle::kTerminated, CheckState::kUnknown));
  EXPECT_FALSE(fs::exists(data));
  EXPECT_FALSE(
      fs::exists(config_.state_dir + "/instances/" + info->id + ".json"));
  EXPECT_TRUE(Terminate(info->id).ok());  // already gone
}

TEST_F(ProcessProviderTest, TerminateDoesNotWaitTheGraceForAProcessThatExits) {
  config_.terminate_grace = std::chrono::seconds(20);
  config_.keep_data_on_terminate = true;
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  std::string data = DataDir(info->id);
  MonoTime before = loop_.clock().Now();
  ASSERT_TRUE(Terminate(info->id).ok());
  EXPECT_LT(loop_.clock().Now() - before, std::chrono::seconds(10));
  EXPECT_TRUE(fs::exists(data));  // kept per config
}

TEST_F(ProcessProviderTest, TerminateReachesTheWholeProcessGroup) {
  MakeProvider();
  // The shell forks sleep and waits: two processes in the instance's group.
  auto info = Launch(Request(Shell("sleep 1000 & echo $! > child; wait")));
  ASSERT_TRUE(info.ok());
  std::string data = DataDir(info->id);
  ASSERT_TRUE(loop_.WaitUntil([&] {
    return ReadFile(data + "/child").find('\n') != std::string::npos;
  }));
  int child = std::stoi(ReadFile(data + "/child"));
  auto child_fd = PidfdOpen(child);
  ASSERT_TRUE(child_fd.ok());
  ASSERT_TRUE(Terminate(info->id).ok());
  EXPECT_TRUE(loop_.WaitUntil([&] { return PidfdExited(*child_fd); }));
  close(*child_fd);
}

TEST_F(ProcessProviderTest, OperationsQueueBehindAKillInProgress) {
  MakeProvider();
  // Both ignore SIGTERM, so each kill lasts the whole grace period.
  auto a = Launch(Request(Shell("trap '' TERM; exec sleep 1000")));
  auto b = Launch(Request(Shell("trap '' TERM; exec sleep 1000")));
  ASSERT_TRUE(a.ok() && b.ok());
  int pid_a = Pid(a->id);
  std::vector<std::string> results;  // loop thread only
  loop_.RunOnLoop([&] {
    auto note = [&](std::string what) {
      return [&results, what](Status st) {
        results.push_back(what + " " + st.ToString().substr(0, 19));
      };
    };
    provider_->Stop(a->id, note("stop-a"));
    provider_->Start(a->id, note("start-a"));
    provider_->Reboot(b->id, note("reboot-b"));
    provider_->Terminate(b->id, note("terminate-b"));
    return 0;
  });
  ASSERT_TRUE(loop_.WaitUntil([&] { return results.size() == 4; }));
  // Per instance, in the order asked; a and b may finish in either order.
  auto at = [&](const std::string& r) {
    return std::find(results.begin(), results.end(), r) - results.begin();
  };
  EXPECT_LT(at("stop-a OK"), at("start-a OK"));
  EXPECT_LT(at("start-a OK"), 4);
  EXPECT_LT(at("reboot-b FAILED_PRECONDITION"), at("terminate-b OK"));
  EXPECT_LT(at("terminate-b OK"), 4);
  EXPECT_TRUE(Exited(PidfdOf(pid_a)));
  Track(a->id);
  EXPECT_NE(Pid(a->id), pid_a);
  EXPECT_EQ(StatusOf(a->id).lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(StatusOf(b->id).lifecycle, Lifecycle::kTerminated);
}

TEST_F(ProcessProviderTest, UnknownInstancesReadAsTerminated) {
  MakeProvider();
  EXPECT_EQ(StatusOf("web-a-99").lifecycle, Lifecycle::kTerminated);
  EXPECT_TRUE(Terminate("web-a-99").ok());
  EXPECT_EQ(Reboot("web-a-99").code(), StatusCode::kNotFound);
  EXPECT_EQ(Stop("web-a-99").code(), StatusCode::kNotFound);
  auto zones = loop_.Call<Result<std::vector<ZoneInfo>>>(
      [&](auto done) { provider_->ListZones(done); });
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 3u);
  EXPECT_EQ((*zones)[1].name, "zone-b");
}

}  // namespace
}  // namespace lifeline::process
