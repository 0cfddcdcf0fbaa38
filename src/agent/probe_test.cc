#include "agent/probe.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/real_loop.h"

namespace lifeline::agent {
namespace {

using heartbeat::AppStatus;

TEST(Probe, MapsExitAndHttpCodesToStatus) {
  EXPECT_EQ(StatusOfExitCode(0), AppStatus::kOk);
  EXPECT_EQ(StatusOfExitCode(1), AppStatus::kDegraded);
  EXPECT_EQ(StatusOfExitCode(2), AppStatus::kFailing);
  EXPECT_EQ(StatusOfHttpCode(204), AppStatus::kOk);
  EXPECT_EQ(StatusOfHttpCode(503), AppStatus::kDegraded);
  EXPECT_EQ(StatusOfHttpCode(500), AppStatus::kFailing);
  EXPECT_EQ(StatusOfHttpCode(0), AppStatus::kFailing);
  EXPECT_EQ(SubstituteId("check {id} --for={id}", "web-1"),
            "check web-1 --for=web-1");
}

// Runs a prober over real child processes until every instance has a
// verdict (or a 20 s deadline passes).
std::vector<std::pair<AppStatus, std::string>> ProbeOnce(
    const std::string& command, std::vector<std::string> ids,
    Duration timeout = std::chrono::seconds(5)) {
  RealClock clock;
  RealLoop loop(clock);
  std::vector<std::pair<AppStatus, std::string>> got(ids.size());
  std::vector<bool> seen(ids.size(), false);
  size_t n = 0;
  ProbeConfig pc;
  pc.command = command;
  pc.interval = std::chrono::seconds(30);
  pc.timeout = timeout;
  {
    HealthProber p(loop, pc, ids,
                   [&](size_t i, AppStatus s, const std::string& why) {
                     if (!seen[i]) {
                       seen[i] = true;
                       got[i] = {s, why};
                       if (++n == seen.size()) loop.Stop();
                     }
                   });
    EXPECT_TRUE(p.Start().ok());
    loop.RunAfter(std::chrono::seconds(20), [&] { loop.Stop(); });
    loop.Run();
  }
  EXPECT_EQ(n, ids.size());
  return got;
}

TEST(HealthProber, CommandExitCodesBecomeEachInstancesStatus) {
  auto got =
      ProbeOnce("case {id} in ok) exit 0;; slow) exit 1;; *) exit 3;; esac",
                {"ok", "slow", "bad"});
  EXPECT_EQ(got[0].first, AppStatus::kOk);
  EXPECT_EQ(got[1].first, AppStatus::kDegraded);
  EXPECT_EQ(got[2].first, AppStatus::kFailing);
  EXPECT_EQ(got[2].second, "health command exited 3");
}

TEST(HealthProber, ACommandPastItsTimeoutIsKilledAndFailing) {
  auto got =
      ProbeOnce("exec sleep 30", {"hung"}, std::chrono::milliseconds(200));
  EXPECT_EQ(got[0].first, AppStatus::kFailing);
  EXPECT_NE(got[0].second.find("timed out"), std::string::npos)
      << got[0].second;
}

TEST(HealthProber, RefusesNonHttpUrls) {
  RealClock clock;
  RealLoop loop(clock);
  ProbeConfig pc;
  pc.http_url = "https://example.invalid/";
  HealthProber p(loop, pc, {"a"}, [](size_t, AppStatus, const std::string&) {});
  EXPECT_EQ(p.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lifeline::agent
