#include "sim/scenario.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

TEST(Scenario, ParsesFleetPoliciesAndFaults) {
  auto sc = ParseScenario(R"(
name: t
seed: 4
duration: 2h
groups:
  - name: web
    desired: 9
    check_application: true
    safety: {dry_run: true, burst: 3}
    ladder:
      instance:
        - {action: replace, max_attempts: 2, window: 1h, timeout: 5m}
faults:
  - {at: 10m, kind: fail_zone, zone: sim-1a, duration: 20m}
  - {at: 11m, kind: partition}
)", "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  EXPECT_EQ(sc->seed, 4u);
  EXPECT_EQ(sc->duration, std::chrono::hours(2));
  ASSERT_EQ(sc->groups.size(), 1u);
  EXPECT_EQ(sc->groups[0].desired, 9);
  EXPECT_TRUE(sc->groups[0].safety.dry_run);
  EXPECT_EQ(sc->groups[0].safety.burst, 3);
  ASSERT_EQ(sc->groups[0].ladder.instance.size(), 1u);
  EXPECT_EQ(sc->groups[0].ladder.instance[0].max_attempts, 2);
  ASSERT_EQ(sc->faults.size(), 2u);
  EXPECT_EQ(sc->faults[0].kind, FaultKind::kFailZone);
  EXPECT_EQ(sc->faults[0].duration, std::chrono::minutes(20));
  EXPECT_EQ(sc->faults[1].zone, "");
}

void ExpectError(const std::string& yaml, const std::string& where,
                 const std::string& what) {
  auto sc = ParseScenario(yaml, "s.yaml");
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sc.status().message().find(where), std::string::npos)
      << sc.status().message();
  EXPECT_NE(sc.status().message().find(what), std::string::npos)
      << sc.status().message();
}

TEST(Scenario, ErrorsNameFileLineColumnAndKey) {
  ExpectError("name: x\ngroups:\n  - name: web\n    desired: six\n",
              "s.yaml:4:14: groups[0].desired", "expected an integer");
  ExpectError("name: x\ngroups:\n  - name: web\n    desird: 3\n",
              "s.yaml:4:5: groups[0].desird", "unknown key");
  ExpectError("name: x\nduration: forever\ngroups:\n  - {name: web, desired: 3}\n",
              "s.yaml:2:11: duration", "expected a duration");
  ExpectError(
      "groups:\n  - {name: web, desired: 3}\nfaults:\n  - {at: 1m, kind: meteor}\n",
      "faults[0].kind", "unknown fault 'meteor'");
  ExpectError(
      "groups:\n  - {name: web, desired: 3}\nfaults:\n  - {at: 1m, kind: fail_zone}\n",
      "faults[0].zone", "needs a zone");
  ExpectError("groups:\n  - {name: web, desired: 3, max: 1}\n", "groups[0]",
              "desired 3 is outside");
  ExpectError("groups: []\n", "groups", "non-empty");
  ExpectError("groups: [\n", "s.yaml:", "");
}

}  // namespace
}  // namespace lifeline
