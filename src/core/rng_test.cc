#include "core/rng.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    if (x != c.Next()) differs = true;
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, UniformIntStaysInRangeAndCoversIt) {
  Rng r(1);
  bool seen[6] = {};
  for (int i = 0; i < 1000; ++i) {
    int64_t v = r.UniformInt(1, 6);
    ASSERT_GE(v, 1);
    ASSERT_LE(v, 6);
    seen[v - 1] = true;
  }
  for (bool s : seen) EXPECT_TRUE(s);
}

TEST(Rng, UniformMeanIsAboutHalf) {
  Rng r(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) sum += r.Uniform();
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

}  // namespace
}  // namespace lifeline
