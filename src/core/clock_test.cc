#include "core/clock.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

TEST(SimClock, AdvancesOnlyForward) {
  SimClock clock;
  MonoTime t0 = clock.Now();
  clock.Advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(3));
  clock.AdvanceTo(t0);  // backwards: ignored
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(3));
}

TEST(SimClock, WallTimeFollowsMonotonicTime) {
  SimClock clock;
  EXPECT_EQ(FormatWallTime(clock.WallNow()), "2026-01-01T00:00:00.000Z");
  clock.Advance(std::chrono::milliseconds(3250));
  EXPECT_EQ(FormatWallTime(clock.WallNow()), "2026-01-01T00:00:03.250Z");
}

TEST(WallTime, ParseRoundTrips) {
  WallTime t;
  ASSERT_TRUE(ParseWallTime("2026-11-22T01:48:54.125Z", &t));
  EXPECT_EQ(FormatWallTime(t), "2026-11-22T01:48:54.125Z");
  ASSERT_TRUE(ParseWallTime("2026-11-22T01:48:54Z", &t));
  EXPECT_FALSE(ParseWallTime("2026-11-22 01:48:54", &t));
  EXPECT_FALSE(ParseWallTime("2026-13-22T01:48:54Z", &t));
  EXPECT_FALSE(ParseWallTime("2026-11-22T01:48:54Zjunk", &t));
}

TEST(Duration, ParsesUnitsAndCompounds) {
  Duration d;
  ASSERT_TRUE(ParseDuration("250ms", &d));
  EXPECT_EQ(d, std::chrono::milliseconds(250));
  ASSERT_TRUE(ParseDuration("1.5s", &d));
  EXPECT_EQ(d, std::chrono::milliseconds(1500));
  ASSERT_TRUE(ParseDuration("1h30m", &d));
  EXPECT_EQ(d, std::chrono::minutes(90));
  ASSERT_TRUE(ParseDuration("72h", &d));
  EXPECT_EQ(d, std::chrono::hours(72));
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("10", &d));
  EXPECT_FALSE(ParseDuration("10 parsecs", &d));
  EXPECT_FALSE(ParseDuration("ms", &d));
}

TEST(Duration, FormatsReadably) {
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(150)), "2m30s");
  EXPECT_EQ(FormatDuration(std::chrono::hours(2)), "2h");
}

}  // namespace
}  // namespace lifeline
