// ProcessProvider state with real processes: snapshots reaching
// replacements, re-adoption by a fresh provider, pid reuse, log rotation,
// volumes and addresses.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/real_loop.h"
#include "providers/process/instance_record.h"
#include "providers/process/process_provider.h"
#include "providers/process/provider_fixture.h"

namespace lifeline::process {
namespace {

namespace fs = std::filesystem;

TEST_F(ProcessProviderTest, ASnapshotOfTheDataDirReachesTheReplacement) {
  MakeProvider();
  auto old = Launch(Request(
      Shell("mkdir -p db && echo 'row 1' > db/table && exec sleep 1000")));
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(WaitForFile(DataDir(old->id) + "/db/table"));

  auto snaps = loop_.Call<Result<std::vector<Snapshot>>>(
      [&](auto done) { provider_->SnapshotVolumes(old->id, done); });
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  ASSERT_EQ(snaps->size(), 1u);
  const Snapshot& snap = (*snaps)[0];
  EXPECT_EQ(snap.device, "data");
  EXPECT_EQ(snap.volume_id, "vol-" + old->id);
  EXPECT_TRUE(snap.complete);

  LaunchRequest req =
      Request(Shell("cat db/table > seen.tmp && mv seen.tmp seen && "
                    "exec sleep 1000"),
              "replace-1", "zone-b");
  req.volume_snapshots = {{"data", snap.id}};
  auto replacement = Launch(req);
  ASSERT_TRUE(replacement.ok()) << replacement.status().ToString();
  EXPECT_NE(replacement->id, old->id);
  std::string data = DataDir(replacement->id);
  ASSERT_TRUE(WaitForFile(data + "/seen"));
  EXPECT_EQ(ReadFile(data + "/seen"), "row 1\n");

  LaunchRequest missing = Request(Shell("exec sleep 1000"), "replace-2");
  missing.volume_snapshots = {{"data", "snap-404"}};
  EXPECT_EQ(Launch(missing).status().code(), StatusCode::kNotFound);
  LaunchRequest no_device = Request(Shell("exec sleep 1000"), "replace-3");
  no_device.volume_snapshots = {{"/dev/sdz", snap.id}};
  EXPECT_EQ(Launch(no_device).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProcessProviderTest, OperationsWaitForALaunchStillCopyingItsSnapshot) {
  MakeProvider();
  auto old = Launch(Request(Shell("echo v1 > state && exec sleep 1000")));
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(WaitForFile(DataDir(old->id) + "/state"));
  auto snaps = loop_.Call<Result<std::vector<Snapshot>>>(
      [&](auto done) { provider_->SnapshotVolumes(old->id, done); });
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();

  // The copy runs on a worker and reports back through the loop, so within
  // one loop task the new instance (web-b-2, by the id counter) is pending.
  LaunchRequest req = Request(Shell("exec sleep 1000"), "pending", "zone-b");
  req.volume_snapshots = {{"data", (*snaps)[0].id}};
  LaunchRequest stopped_req = req;
  stopped_req.idempotency_token = "pending-then-stopped";
  std::vector<Result<InstanceInfo>> launches;  // loop thread only
  std::vector<Status> ops;
  std::vector<InstanceStatus> during;
  loop_.RunOnLoop([&] {
    auto on_launch = [&](Result<InstanceInfo> r) { launches.push_back(r); };
    auto on_op = [&](Status st) { ops.push_back(st); };
    provider_->Launch(req, on_launch);
    provider_->Launch(req, on_launch);  // same token, while pending
    provider_->DescribeStatus({"web-b-2"}, [&](auto r) { during = *r; });
    provider_->Terminate("web-b-2", on_op);
    provider_->Launch(stopped_req, on_launch);  // web-b-3
    provider_->Stop("web-b-3", on_op);
    return 0;
  });
  ASSERT_TRUE(
      loop_.WaitUntil([&] { return launches.size() == 3 && ops.size() == 2; }));
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during[0].lifecycle, Lifecycle::kPending);
  // The duplicate answers at once; the two copies finish in either order.
  ASSERT_TRUE(launches[0].ok() && launches[1].ok() && launches[2].ok());
  EXPECT_EQ(launches[0]->id, "web-b-2");
  EXPECT_EQ(launches[0]->lifecycle, Lifecycle::kPending);
  std::map<std::string, Lifecycle> finished;
  for (int i = 1; i < 3; ++i)
    finished[launches[i]->id] = launches[i]->lifecycle;
  EXPECT_EQ(finished, (std::map<std::string, Lifecycle>{
                          {"web-b-2", Lifecycle::kTerminated},
                          {"web-b-3", Lifecycle::kStopped}}));
  EXPECT_TRUE(ops[0].ok() && ops[1].ok());
  EXPECT_EQ(StatusOf("web-b-2").lifecycle, Lifecycle::kTerminated);
  EXPECT_FALSE(fs::exists(config_.state_dir + "/data/web-b-2"));
  EXPECT_EQ(Pid("web-b-3"), 0);
  EXPECT_EQ(ReadFile(DataDir("web-b-3") + "/state"), "v1\n");
}

TEST_F(ProcessProviderTest, AFreshProviderReadoptsRunningInstances) {
  MakeProvider();
  auto a = Launch(Request(Shell("exec sleep 1000"), "t-a"));
  auto b = Launch(Request(Shell("exec sleep 1000"), "t-b", "zone-c"));
  ASSERT_TRUE(a.ok() && b.ok());
  int pid_a = Pid(a->id), pid_b = Pid(b->id);

  DestroyProvider();  // the daemon goes away; its instances do not
  EXPECT_FALSE(Exited(PidfdOf(pid_a)));
  EXPECT_FALSE(Exited(PidfdOf(pid_b)));

  events_.clear();
  MakeProvider();
  auto listed = List("web");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, a->id);
  EXPECT_EQ(listed[1].id, b->id);
  EXPECT_EQ(listed[1].zone, "zone-c");
  for (const auto& info : listed) {
    EXPECT_EQ(info.lifecycle, Lifecycle::kRunning);
  }
  EXPECT_EQ(Pid(a->id), pid_a);
  EXPECT_EQ(Pid(b->id), pid_b);
  EXPECT_EQ(List("web").size(), 2u);  // listing again adopts nothing twice
  // The same token still returns the adopted instance, not a new one.
  auto again = Launch(Request(Shell("exec sleep 1000"), "t-a"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, a->id);

  // The adopted process is watched: its death is reported at once.
  ASSERT_EQ(kill(pid_b, SIGKILL), 0);
  EXPECT_TRUE(WaitForEvent(b->id, Lifecycle::kStopped, CheckState::kImpaired));
  // And it is terminated through its pidfd like any other.
  ASSERT_TRUE(Terminate(a->id).ok());
  EXPECT_TRUE(Exited(PidfdOf(pid_a)));
}

TEST_F(ProcessProviderTest, InstancesOutliveTheDaemonProcessAndAreAdopted) {
  // A separate "daemon" process launches the instance and exits; the
  // instance is re-parented away from us, so what this provider adopts is
  // not its child: exit detection and signalling must work through the
  // pidfd alone.
  pid_t daemon = fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    RealClock clock;
    RealLoop loop(clock);
    ProcessProvider provider(loop, clock, config_);
    // Launch spawns before it returns; its completion is posted to a loop
    // that never runs, as when a daemon dies right after launching.
    provider.Launch(Request(Shell("exec sleep 1000"), "from-daemon"),
                    [](Result<InstanceInfo>) {});
    _exit(provider.Pid("web-a-1") > 0 ? 0 : 1);
  }
  auto daemon_fd = PidfdOpen(daemon);
  ASSERT_TRUE(daemon_fd.ok());
  ASSERT_TRUE(loop_.WaitUntil([&] { return PidfdExited(*daemon_fd); },
                              std::chrono::seconds(30)));
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PIDFD, static_cast<id_t>(*daemon_fd), &info, WEXITED), 0);
  close(*daemon_fd);
  ASSERT_EQ(info.si_code, CLD_EXITED);
  ASSERT_EQ(info.si_status, 0);

  MakeProvider();
  int pid = Pid("web-a-1");
  ASSERT_GT(pid, 0);
  int fd = Track("web-a-1");
  siginfo_t none{};
  EXPECT_NE(waitid(P_PID, static_cast<id_t>(pid), &none, WEXITED | WNOHANG),
            0);  // ECHILD: not ours
  EXPECT_EQ(StatusOf("web-a-1").lifecycle, Lifecycle::kRunning);
  auto again = Launch(Request(Shell("exec sleep 1000"), "from-daemon"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, "web-a-1");
  ASSERT_TRUE(Terminate("web-a-1").ok());
  EXPECT_TRUE(Exited(fd));
  EXPECT_EQ(StatusOf("web-a-1").lifecycle, Lifecycle::kTerminated);
}

TEST_F(ProcessProviderTest,
       ARecordWhosePidBelongsToAnotherProcessIsNotAdopted) {
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  DestroyProvider();

  // Make the record describe an earlier process that had this pid: same
  // pid, different start time. The live process is now "unrelated".
  std::string path = config_.state_dir + "/instances/" + info->id + ".json";
  auto text = ReadWholeFile(path);
  ASSERT_TRUE(text.ok());
  auto record = DecodeRecord(*text, path);
  ASSERT_TRUE(record.ok());
  record->start_time -= 1;
  ASSERT_TRUE(WriteFileAtomically(path, EncodeRecord(*record)).ok());

  MakeProvider();
  EXPECT_EQ(Pid(info->id), 0);
  InstanceStatus s = StatusOf(info->id);
  EXPECT_EQ(s.lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(s.instance_check, CheckState::kImpaired);
  // Terminating the instance must not touch the unrelated process.
  ASSERT_TRUE(Terminate(info->id).ok());
  EXPECT_FALSE(Exited(PidfdOf(pid)));
  auto listed = List("");
  EXPECT_TRUE(listed.empty());
}

TEST_F(ProcessProviderTest, ALaunchCutShortByADaemonStopEndsTerminated) {
  MakeProvider();
  LaunchRequest req = Request(Shell("exec sleep 1000"), "cut-short");
  req.stopped = true;
  auto info = Launch(req);
  ASSERT_TRUE(info.ok());
  std::string data = DataDir(info->id);
  DestroyProvider();
  // As the record reads while snapshots are still being copied.
  std::string path = config_.state_dir + "/instances/" + info->id + ".json";
  auto record = DecodeRecord(*ReadWholeFile(path), path);
  ASSERT_TRUE(record.ok());
  record->launched = false;
  ASSERT_TRUE(WriteFileAtomically(path, EncodeRecord(*record)).ok());

  MakeProvider();
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kTerminated);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(data));
  auto retry = Launch(req);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->id, info->id);
  EXPECT_EQ(retry->lifecycle, Lifecycle::kTerminated);
}

TEST_F(ProcessProviderTest, ADamagedRecordIsReportedAndTheRestStillWorks) {
  MakeProvider();
  auto good = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(good.ok());
  DestroyProvider();
  std::string bad = config_.state_dir + "/instances/web-a-99.json";
  ASSERT_TRUE(WriteFileAtomically(bad, "{\"id\": \"web-a-99\", trunc").ok());

  provider_ = loop_.RunOnLoop([this] {
    return std::make_unique<ProcessProvider>(loop_.loop(), loop_.clock(),
                                             config_);
  });
  Status init = init_status();
  EXPECT_EQ(init.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(init.message().find(bad), std::string::npos) << init.ToString();
  EXPECT_TRUE(fs::exists(bad));  // left for an operator to inspect
  EXPECT_EQ(StatusOf(good->id).lifecycle, Lifecycle::kRunning);
  auto more = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(more.ok()) << more.status().ToString();

  ProcessProviderConfig unusable = config_;
  unusable.state_dir = bad + "/below-a-file";
  Status st = loop_.RunOnLoop([&] {
    ProcessProvider p(loop_.loop(), loop_.clock(), unusable);
    return p.init_status();
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("below-a-file"), std::string::npos);
}

TEST_F(ProcessProviderTest, AnInstanceThatDiedWhileTheDaemonWasDownIsStopped) {
  MakeProvider();
  auto info = Launch(Request(Shell("exec sleep 1000")));
  ASSERT_TRUE(info.ok());
  int pid = Pid(info->id);
  DestroyProvider();
  ASSERT_TRUE(PidfdSignal(PidfdOf(pid), SIGKILL).ok());
  ASSERT_TRUE(loop_.WaitUntil([&] { return Exited(PidfdOf(pid)); }));

  MakeProvider();
  InstanceStatus s = StatusOf(info->id);
  EXPECT_EQ(s.lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(s.instance_check, CheckState::kImpaired);
  ASSERT_TRUE(Start(info->id).ok());
  EXPECT_EQ(StatusOf(info->id).lifecycle, Lifecycle::kRunning);
}

TEST_F(ProcessProviderTest, LogsRotateWhileTheInstanceKeepsWriting) {
  config_.log_rotation = {/*max_bytes=*/1000, /*keep=*/2};
  config_.log_check_interval = std::chrono::milliseconds(10);
  MakeProvider();
  // Writes a ~2600-byte batch each time a "go.N" file appears.
  auto info = Launch(Request(Shell(
      "n=1; while :; do "
      "  while [ ! -e go.$n ]; do sleep 0.01; done; "
      "  i=0; while [ $i -lt 40 ]; do "
      "    echo \"batch $n line $i ........................................\"; "
      "    i=$((i+1)); done; "
      "  echo $n > written.tmp; mv written.tmp written; n=$((n+1)); "
      "done")));
  ASSERT_TRUE(info.ok());
  std::string data = DataDir(info->id);
  std::string log = config_.state_dir + "/logs/" + info->id + "/stdout.log";
  for (int n = 1; n <= 4; ++n) {
    std::ofstream(data + "/go." + std::to_string(n)) << "\n";
    // Checks may run mid-batch, so a batch can be split across rotations
    // (and lose the lines written during a copy); once it is written, the
    // live file is back under the limit and the newest rotated file holds
    // part of it.
    std::string marker = "batch " + std::to_string(n) + " line";
    ASSERT_TRUE(loop_.WaitUntil([&] {
      std::error_code ec;
      auto size = fs::file_size(log, ec);
      return ReadFile(data + "/written") == std::to_string(n) + "\n" && !ec &&
             size <= 1000 &&
             ReadFile(log + ".1").find(marker) != std::string::npos;
    })) << marker;
  }
  std::string older = ReadFile(log + ".2");
  EXPECT_EQ(older.find("batch "), 0u);
  // The writer appended at the start of the truncated file: no hole of
  // zero bytes where the old content was.
  for (const std::string& path : {log, log + ".1", log + ".2"}) {
    EXPECT_EQ(ReadFile(path).find('\0'), std::string::npos) << path;
  }
  EXPECT_FALSE(fs::exists(log + ".3"));
}

TEST_F(ProcessProviderTest, VolumesAttachDetachAndAddressesMove) {
  MakeProvider();
  LaunchSpec spec = Shell("exec sleep 1000");
  spec.volumes = {{"/dev/sdf", 1, /*detachable=*/true, false}};
  auto a = Launch(Request(spec, "vol-a"));
  auto b = Launch(Request(Shell("exec sleep 1000"), "vol-b"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->volumes.size(), 2u);
  std::string vol = a->volumes[1].id;
  EXPECT_EQ(a->volumes[1].device, "sdf");
  EXPECT_TRUE(a->volumes[1].detachable);
  std::string a_link = config_.state_dir + "/attach/" + a->id + "/sdf";
  std::ofstream(a_link + "/payload") << "moved\n";

  auto attach = [&](const std::string& v, const std::string& to) {
    return loop_.Call<Status>([&, v, to](auto done) {
      provider_->AttachVolume(v, to, "/dev/sdg", done);
    });
  };
  auto detach = [&](const std::string& v) {
    return loop_.Call<Status>(
        [&, v](auto done) { provider_->DetachVolume(v, done); });
  };
  auto move = [&](const std::string& address, const std::string& to) {
    return loop_.Call<Status>([&, address, to](auto done) {
      provider_->MoveAddress(address, to, done);
    });
  };
  EXPECT_EQ(attach(vol, b->id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(detach("vol-" + a->id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(detach("vol-nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(detach(vol).ok());
  EXPECT_FALSE(fs::exists(a_link));
  ASSERT_TRUE(attach(vol, b->id).ok());
  EXPECT_EQ(ReadFile(config_.state_dir + "/attach/" + b->id + "/sdg/payload"),
            "moved\n");

  ASSERT_TRUE(move("10.0.0.5", a->id).ok());
  ASSERT_TRUE(move("10.0.0.5", b->id).ok());
  EXPECT_EQ(move("10.0.0.5", "web-a-404").code(), StatusCode::kNotFound);
  auto listed = List("web");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].addresses.empty());
  ASSERT_EQ(listed[1].addresses.size(), 1u);
  EXPECT_EQ(listed[1].addresses[0], "10.0.0.5");
  ASSERT_EQ(listed[1].volumes.size(), 2u);
  EXPECT_EQ(listed[1].volumes[1].id, vol);

  // Terminating the holder releases the address and detaches (keeps) the
  // detachable volume.
  ASSERT_TRUE(Terminate(b->id).ok());
  ASSERT_TRUE(attach(vol, a->id).ok());
  EXPECT_EQ(ReadFile(config_.state_dir + "/attach/" + a->id + "/sdg/payload"),
            "moved\n");
  ASSERT_TRUE(move("10.0.0.5", a->id).ok());
}

}  // namespace
}  // namespace lifeline::process
