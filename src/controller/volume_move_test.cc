// Replacing an instance that holds a detachable volume: the replacement is
// launched without a fresh volume on that device, and the old instance's
// volume is moved to it (fenced first).
#include "controller/fleet_fixture.h"

namespace lifeline {
namespace {

class VolumeMoveTest : public FleetTest {
 protected:
  GroupSpec WithDataVolume() {
    GroupSpec g = Web(3);
    g.launch.volumes = {{"/dev/sdf", 20, /*detachable=*/true, false}};
    g.ladder.instance = {{RecoveryAction::kReplace, 1, hours(1), minutes(10)}};
    return g;
  }
  // The instance's volumes on `device` (ids), per the simulated cloud.
  std::vector<std::string> VolumesOn(const std::string& id,
                                     const std::string& device) {
    std::vector<std::string> out;
    for (const auto& v : provider_.VolumeIdsOf(id)) {
      auto t = provider_.VolumeTruth(v);
      if (t && !t->deleted && t->device == device) out.push_back(v);
    }
    return out;
  }
};

TEST_F(VolumeMoveTest, TheOldVolumeMovesAndTheReplacementGetsNoFreshOne) {
  Boot(WithDataVolume());
  Run(minutes(3));
  const std::string victim = ActiveIds()[0];
  std::vector<std::string> data = VolumesOn(victim, "/dev/sdf");
  ASSERT_EQ(data.size(), 1u);
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(10));

  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  EXPECT_FALSE(HasEvent("move.failed"));
  std::string rep;
  for (const auto& id : ActiveIds()) {
    if (provider_.GroundTruth(id)->zone ==
            provider_.GroundTruth(victim)->zone &&
        id != victim && VolumesOn(id, "/dev/sdf") == data) {
      rep = id;
    }
  }
  ASSERT_FALSE(rep.empty()) << "no active instance holds " << data[0];
  auto moved = provider_.VolumeTruth(data[0]);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->owner, rep);
  EXPECT_EQ(VolumesOn(rep, "/dev/sdf").size(), 1u);
  ExpectAllHealthy(3);
}

}  // namespace
}  // namespace lifeline
