#include "heartbeat/id_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/rng.h"

namespace lifeline::heartbeat {
namespace {

TEST(IdTable, MapsIdsToDenseIndicesAndBack) {
  IdTable t;
  auto [a, ins_a] = t.Insert("i-0abc123");
  auto [b, ins_b] = t.Insert(std::string(64, 'x'));
  EXPECT_TRUE(ins_a);
  EXPECT_TRUE(ins_b);
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  EXPECT_FALSE(t.Insert("i-0abc123").second);
  EXPECT_EQ(t.Find("i-0abc123"), a);
  EXPECT_EQ(t.IdOf(b), std::string(64, 'x'));
  EXPECT_EQ(t.Find("i-0abc12"), IdTable::kNone);
  EXPECT_TRUE(t.Erase("i-0abc123"));
  EXPECT_FALSE(t.Erase("i-0abc123"));
  EXPECT_EQ(t.Find("i-0abc123"), IdTable::kNone);
  EXPECT_EQ(t.Insert("web-a-17").first, a);  // freed index reused
}

TEST(IdTable, AgreesWithAMapUnderRandomInsertAndErase) {
  IdTable t;
  std::map<std::string, uint32_t> model;
  Rng rng(7);
  for (int step = 0; step < 20000; ++step) {
    std::string id = "inst-" + std::to_string(rng.UniformInt(0, 3000));
    if (rng.Bernoulli(0.6)) {
      auto [i, inserted] = t.Insert(id);
      EXPECT_EQ(inserted, !model.count(id));
      if (inserted) model[id] = i;
      EXPECT_EQ(model[id], i);
    } else {
      EXPECT_EQ(t.Erase(id), model.erase(id) == 1);
    }
  }
  EXPECT_EQ(t.size(), model.size());
  for (const auto& [id, i] : model) {
    ASSERT_EQ(t.Find(id), i) << id;
    EXPECT_EQ(t.IdOf(i), id);
  }
}

}  // namespace
}  // namespace lifeline::heartbeat
