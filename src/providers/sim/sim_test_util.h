// Shared fixture for the SimProvider tests: a simulated loop, a provider
// with fixed (jitter-free) latencies, and helpers that call an operation and
// run the loop until its completion arrives.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/sim_loop.h"
#include "providers/sim/sim_provider.h"

namespace lifeline::sim_testing {

// Latencies without jitter, so tests can name exact times.
inline SimConfig FixedConfig() {
  SimConfig c = DefaultSimConfig();
  for (auto& z : c.zones) z.hosts = 4;
  auto set = [&c](SimOp op, Duration d) {
    c.latency_of(op) = {d, Duration(0)};
  };
  set(SimOp::kListZones, milliseconds(100));
  set(SimOp::kLaunch, seconds(1));
  set(SimOp::kBoot, seconds(10));
  set(SimOp::kTerminate, seconds(2));
  set(SimOp::kReboot, seconds(5));
  set(SimOp::kStop, seconds(3));
  set(SimOp::kStart, seconds(1));
  set(SimOp::kRecover, seconds(20));
  set(SimOp::kDescribeStatus, milliseconds(100));
  set(SimOp::kListInstances, milliseconds(100));
  set(SimOp::kSnapshotVolumes, seconds(4));
  set(SimOp::kAttachVolume, seconds(1));
  set(SimOp::kDetachVolume, seconds(1));
  set(SimOp::kMoveAddress, milliseconds(500));
  return c;
}

class SimTest : public ::testing::Test {
 protected:
  explicit SimTest(SimConfig config = FixedConfig(), uint64_t seed = 7)
      : loop_(clock_),
        sim_(std::make_unique<SimProvider>(loop_, seed, std::move(config))) {}

  static LaunchRequest Request(std::string group, std::string zone,
                               std::string token) {
    LaunchRequest r;
    r.group = std::move(group);
    r.zone = std::move(zone);
    r.idempotency_token = std::move(token);
    r.spec.image = "img-1";
    r.spec.instance_type = "m5.large";
    r.spec.tags["team"] = "infra";
    return r;
  }

  // Runs the loop until `slot` is filled (or a simulated day passes).
  template <typename T>
  T Await(std::optional<T>& slot) {
    MonoTime stop = loop_.Now() + hours(24);
    while (!slot && loop_.Now() < stop) loop_.RunFor(milliseconds(10));
    EXPECT_TRUE(slot.has_value()) << "completion never arrived";
    return slot ? std::move(*slot) : T(Internal("no completion"));
  }

  Result<InstanceInfo> Launch(const LaunchRequest& r) {
    std::optional<Result<InstanceInfo>> got;
    sim_->Launch(r, [&](Result<InstanceInfo> res) { got = std::move(res); });
    return Await(got);
  }
  // Launches and runs until the instance is running.
  std::string LaunchRunning(const std::string& zone, const std::string& token,
                            const std::string& group = "web") {
    Result<InstanceInfo> info = Launch(Request(group, zone, token));
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    loop_.RunFor(seconds(11));
    return info.ok() ? info->id : "";
  }

  template <typename Method>
  Status Call(Method method, const std::string& id) {
    std::optional<Status> got;
    (sim_.get()->*method)(id, [&](Status st) { got = std::move(st); });
    return Await(got);
  }
  Status Terminate(const std::string& id) {
    return Call(&SimProvider::Terminate, id);
  }
  Status Reboot(const std::string& id) {
    return Call(&SimProvider::Reboot, id);
  }
  Status Stop(const std::string& id) { return Call(&SimProvider::Stop, id); }
  Status Start(const std::string& id) { return Call(&SimProvider::Start, id); }
  Status Recover(const std::string& id) {
    return Call(&SimProvider::Recover, id);
  }

  Result<std::vector<InstanceStatus>> Describe(
      const std::vector<std::string>& ids) {
    std::optional<Result<std::vector<InstanceStatus>>> got;
    sim_->DescribeStatus(ids, [&](Result<std::vector<InstanceStatus>> r) {
      got = std::move(r);
    });
    return Await(got);
  }

  SimTruth Truth(const std::string& id) {
    std::optional<SimTruth> t = sim_->GroundTruth(id);
    EXPECT_TRUE(t.has_value()) << id;
    return t ? *t : SimTruth{};
  }

  SimClock clock_;
  SimLoop loop_;
  std::unique_ptr<SimProvider> sim_;
};

}  // namespace lifeline::sim_testing
