// Test fixture for ProcessProvider tests with real processes: a state dir
// under /tmp, a provider living on a LoopThread, helpers that call the
// provider and wait with deadlines, and a teardown that terminates every
// instance and SIGKILLs (through pidfds held since launch) any process the
// provider no longer tracks.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/process/process_provider.h"
#include "providers/process/process_util.h"
#include "providers/process/test_loop.h"

namespace lifeline::process {

class ProcessProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeline-process-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.state_dir = dir_ + "/state";
    config_.terminate_grace = std::chrono::milliseconds(300);
    config_.kill_timeout = std::chrono::seconds(5);
    config_.log_check_interval = Duration::zero();
    config_.heartbeat.addr = "127.0.0.1:7070";
    config_.heartbeat.key_file = "/etc/lifeline/hb.key";
    config_.heartbeat.key_id = "1";
    config_.heartbeat.interval = std::chrono::milliseconds(250);
    config_.heartbeat.group_keys["api"] = {"/etc/lifeline/api.key", "7"};
  }

  void TearDown() override {
    if (provider_) {
      auto all = Describe({});
      for (const auto& s : all) (void)Terminate(s.id);
      DestroyProvider();
    }
    for (auto [pid, fd] : pidfds_) {
      (void)PidfdSignal(fd, SIGKILL);
      siginfo_t info{};
      waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED);  // ECHILD: reaped
      close(fd);
    }
    std::filesystem::remove_all(dir_);
  }

  void MakeProvider() {
    provider_ = loop_.RunOnLoop([this] {
      auto p = std::make_unique<ProcessProvider>(loop_.loop(), loop_.clock(),
                                                 config_);
      p->SetStatusSink(
          [this](const InstanceStatus& s) { events_.push_back(s); });
      return p;
    });
    ASSERT_TRUE(init_status().ok()) << init_status().ToString();
  }
  Status init_status() {
    return loop_.RunOnLoop([this] { return provider_->init_status(); });
  }
  void DestroyProvider() {
    loop_.RunOnLoop([this] {
      provider_.reset();
      return 0;
    });
  }

  static LaunchSpec Shell(const std::string& script) {
    LaunchSpec spec;
    spec.command = "/bin/sh";
    spec.args = {"-c", script};
    return spec;
  }
  static LaunchRequest Request(const LaunchSpec& spec,
                               const std::string& token = "",
                               const std::string& zone = "zone-a") {
    LaunchRequest req;
    req.group = "web";
    req.zone = zone;
    req.spec = spec;
    req.idempotency_token = token;
    return req;
  }

  Result<InstanceInfo> Launch(const LaunchRequest& req) {
    auto r = loop_.Call<Result<InstanceInfo>>(
        [this, req](auto done) { provider_->Launch(req, done); });
    if (r.ok()) Track(r->id);
    return r;
  }
  Status Terminate(const std::string& id) {
    return loop_.Call<Status>(
        [this, id](auto done) { provider_->Terminate(id, done); });
  }
  Status Reboot(const std::string& id) {
    Status st = loop_.Call<Status>(
        [this, id](auto done) { provider_->Reboot(id, done); });
    Track(id);
    return st;
  }
  Status Stop(const std::string& id) {
    return loop_.Call<Status>(
        [this, id](auto done) { provider_->Stop(id, done); });
  }
  Status Start(const std::string& id) {
    Status st = loop_.Call<Status>(
        [this, id](auto done) { provider_->Start(id, done); });
    Track(id);
    return st;
  }
  std::vector<InstanceStatus> Describe(const std::vector<std::string>& ids) {
    auto r = loop_.Call<Result<std::vector<InstanceStatus>>>(
        [this, ids](auto done) { provider_->DescribeStatus(ids, done); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<InstanceStatus>{};
  }
  InstanceStatus StatusOf(const std::string& id) {
    auto all = Describe({id});
    return all.empty() ? InstanceStatus{} : all[0];
  }
  std::vector<InstanceInfo> List(const std::string& group) {
    auto r = loop_.Call<Result<std::vector<InstanceInfo>>>(
        [this, group](auto done) { provider_->ListInstances(group, done); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<InstanceInfo>{};
  }
  int Pid(const std::string& id) {
    return loop_.RunOnLoop([this, id] { return provider_->Pid(id); });
  }
  std::string DataDir(const std::string& id) {
    return loop_.RunOnLoop([this, id] { return provider_->DataDir(id); });
  }

  // Holds a pidfd on the instance's current process, for teardown and for
  // checking liveness independently of the provider.
  int Track(const std::string& id) {
    int pid = Pid(id);
    if (pid == 0) return -1;
    if (pidfds_.count(pid)) return pidfds_[pid];
    auto fd = PidfdOpen(pid);
    if (!fd.ok()) return -1;
    pidfds_[pid] = *fd;
    return *fd;
  }
  int PidfdOf(int pid) { return pidfds_.count(pid) ? pidfds_[pid] : -1; }

  // True once the sink has reported `id` in that lifecycle and check.
  bool WaitForEvent(const std::string& id, Lifecycle lifecycle,
                    CheckState instance_check) {
    return loop_.WaitUntil([&] {
      for (const auto& e : events_) {
        if (e.id == id && e.lifecycle == lifecycle &&
            e.instance_check == instance_check) {
          return true;
        }
      }
      return false;
    });
  }
  // True once DescribeStatus reports `id` with that instance check. Each
  // check on the loop issues a DescribeStatus and looks at the answer to
  // the previous one (answers are posted, never synchronous).
  bool WaitForCheck(const std::string& id, CheckState instance_check) {
    auto last = std::make_shared<InstanceStatus>();
    return loop_.WaitUntil([&, last] {
      provider_->DescribeStatus({id}, [last](auto r) {
        if (r.ok() && !r->empty()) *last = r->front();
      });
      return last->id == id && last->instance_check == instance_check;
    });
  }
  bool WaitForFile(const std::string& path) {
    return loop_.WaitUntil([&] { return std::filesystem::exists(path); });
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static bool Exited(int pidfd) { return pidfd >= 0 && PidfdExited(pidfd); }

  LoopThread loop_;
  std::string dir_;
  ProcessProviderConfig config_;
  std::unique_ptr<ProcessProvider> provider_;
  std::vector<InstanceStatus> events_;  // loop thread only

 private:
  std::map<int, int> pidfds_;  // pid -> pidfd
};

}  // namespace lifeline::process
