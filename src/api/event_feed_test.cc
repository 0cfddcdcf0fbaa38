#include "api/event_feed.h"

#include <gtest/gtest.h>

#include <thread>

namespace lifeline {
namespace {

HistoryEvent Ev(uint64_t seq) {
  HistoryEvent e;
  e.seq = seq;
  e.type = "t";
  return e;
}

TEST(EventFeed, ReturnsEventsAfterASeqInOrder) {
  EventFeed feed(10, 5);
  for (uint64_t s = 6; s <= 9; ++s) feed.Publish(Ev(s));
  auto b = feed.WaitAfter(7, std::chrono::seconds(1), 100);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].seq, 8u);
  EXPECT_EQ(b.events[1].seq, 9u);
  EXPECT_FALSE(b.gap);
  EXPECT_EQ(feed.latest(), 9u);
}

TEST(EventFeed, ReportsAGapWhenTheReaderFellBehind) {
  EventFeed feed(2, 0);
  for (uint64_t s = 1; s <= 5; ++s) feed.Publish(Ev(s));
  EXPECT_EQ(feed.floor(), 3u);
  EXPECT_TRUE(feed.WaitAfter(1, std::chrono::seconds(1), 100).gap);
  auto b = feed.WaitAfter(3, std::chrono::seconds(1), 100);
  EXPECT_FALSE(b.gap);
  EXPECT_EQ(b.events.size(), 2u);
}

TEST(EventFeed, AWaiterWakesOnPublishAndOnClose) {
  EventFeed feed(10, 0);
  std::thread publisher([&] { feed.Publish(Ev(1)); });
  auto b = feed.WaitAfter(0, std::chrono::seconds(30), 10);
  publisher.join();
  ASSERT_EQ(b.events.size(), 1u);
  std::thread closer([&] { feed.Close(); });
  auto c = feed.WaitAfter(1, std::chrono::seconds(30), 10);
  closer.join();
  EXPECT_TRUE(c.closed);
  EXPECT_TRUE(c.events.empty());
}

TEST(EventFeed, TimesOutWithNothing) {
  EventFeed feed(10, 0);
  auto b = feed.WaitAfter(0, std::chrono::milliseconds(1), 10);
  EXPECT_TRUE(b.events.empty());
  EXPECT_FALSE(b.closed);
}

}  // namespace
}  // namespace lifeline
