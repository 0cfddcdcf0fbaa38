#include "history/history.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

HistoryEvent Ev(std::string type, std::string instance, std::string zone) {
  HistoryEvent e;
  e.type = std::move(type);
  e.instance = std::move(instance);
  e.zone = std::move(zone);
  e.group = "web";
  return e;
}

TEST(MemoryHistory, AssignsIncreasingSeqAndFilters) {
  MemoryHistory h;
  EXPECT_EQ(h.Append(Ev("instance.unhealthy", "i-1", "a")), 1u);
  EXPECT_EQ(h.Append(Ev("recovery.started", "i-1", "a")), 2u);
  EXPECT_EQ(h.Append(Ev("instance.unhealthy", "i-2", "b")), 3u);
  HistoryQuery q;
  q.instance = "i-1";
  auto r = h.Query(q);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, "instance.unhealthy");
  EXPECT_EQ(r[1].type, "recovery.started");
  HistoryQuery by_type;
  by_type.type_prefix = "instance.";
  EXPECT_EQ(h.Query(by_type).size(), 2u);
  HistoryQuery after;
  after.after_seq = 2;
  ASSERT_EQ(h.Query(after).size(), 1u);
  EXPECT_EQ(h.Query(after)[0].instance, "i-2");
}

TEST(MemoryHistory, KeepsOnlyTheNewestWithinCapacity) {
  MemoryHistory h(2);
  h.Append(Ev("a", "i-1", "z"));
  h.Append(Ev("b", "i-1", "z"));
  h.Append(Ev("c", "i-1", "z"));
  auto r = h.Query({});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, "b");
  EXPECT_EQ(r[1].type, "c");
}

TEST(MemoryHistory, LimitReturnsNewestOldestFirst) {
  MemoryHistory h;
  for (int i = 0; i < 5; ++i) h.Append(Ev("t" + std::to_string(i), "i", "z"));
  HistoryQuery q;
  q.limit = 2;
  auto r = h.Query(q);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, "t3");
  EXPECT_EQ(r[1].type, "t4");
}

TEST(MemoryHistory, OldestFirstReturnsTheNextPageAfterAfterSeq) {
  MemoryHistory h;
  for (int i = 0; i < 10; ++i) {
    h.Append(Ev("t" + std::to_string(i), i % 2 ? "odd" : "even", "z"));
  }
  HistoryQuery q;
  q.instance = "odd";  // seqs 2, 4, 6, 8, 10
  q.limit = 2;
  q.oldest_first = true;
  std::vector<uint64_t> walked;
  for (int page = 0; page < 10; ++page) {
    auto r = h.Query(q);
    for (const auto& e : r) walked.push_back(e.seq);
    if (r.size() < q.limit) break;
    q.after_seq = r.back().seq;
  }
  EXPECT_EQ(walked, (std::vector<uint64_t>{2, 4, 6, 8, 10}));
  // The default keeps the newest.
  q.after_seq = 3;
  q.oldest_first = false;
  auto newest = h.Query(q);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].seq, 8u);
  EXPECT_EQ(newest[1].seq, 10u);
  q.oldest_first = true;
  auto oldest = h.Query(q);
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(oldest[0].seq, 4u);
  EXPECT_EQ(oldest[1].seq, 6u);
}

TEST(MemoryHistory, OldestFirstStartsAtTheOldestEventStillHeld) {
  MemoryHistory h(3);
  for (int i = 0; i < 6; ++i) h.Append(Ev("t", "i", "z"));  // keeps 4..6
  HistoryQuery q;
  q.limit = 2;
  q.oldest_first = true;
  auto r = h.Query(q);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, 4u);
  EXPECT_EQ(r[1].seq, 5u);
  q.limit = 0;
  EXPECT_TRUE(h.Query(q).empty());
}

TEST(MemoryHistory, ListenersSeeEveryAppend) {
  MemoryHistory h;
  std::vector<uint64_t> seen;
  h.AddListener([&](const HistoryEvent& e) { seen.push_back(e.seq); });
  h.Append(Ev("a", "i", "z"));
  h.Append(Ev("b", "i", "z"));
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace lifeline
