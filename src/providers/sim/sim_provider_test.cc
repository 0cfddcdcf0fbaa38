#include "providers/sim/sim_provider.h"

#include <gtest/gtest.h>

#include "core/sim_loop.h"

namespace lifeline {
namespace {

TEST(SimProvider, LaunchBootsToRunning) {
  SimClock clock;
  SimLoop loop(clock);
  SimProvider sim(loop, 1);
  LaunchRequest r;
  r.group = "web";
  r.zone = "sim-1a";
  r.idempotency_token = "t1";
  std::optional<Result<InstanceInfo>> got;
  sim.Launch(r, [&](Result<InstanceInfo> res) { got = std::move(res); });
  EXPECT_FALSE(got);
  loop.RunUntilIdle();
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ((*got)->id, "sim-000001");
  EXPECT_EQ(sim.GroundTruth("sim-000001")->lifecycle, Lifecycle::kRunning);
}

}  // namespace
}  // namespace lifeline
