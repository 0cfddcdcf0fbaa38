#include "controller/op_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/sim_loop.h"

namespace lifeline {
namespace {

TEST(OpQueue, BoundsCallsInFlightAndRunsTheRestInOrder) {
  SimClock clock;
  SimLoop loop(clock);
  OpQueue q(loop, 2);
  std::vector<OpQueue::Finish> outstanding;
  std::vector<int> done;
  for (int i = 0; i < 4; ++i) {
    q.Submit("op" + std::to_string(i), std::chrono::seconds(10),
             [&](OpQueue::Finish f) { outstanding.push_back(f); },
             [&, i](Status s) {
               EXPECT_TRUE(s.ok());
               done.push_back(i);
             });
  }
  EXPECT_EQ(q.in_flight(), 2);
  EXPECT_EQ(q.queued(), 2u);
  outstanding[0](Status::Ok());
  EXPECT_EQ(q.in_flight(), 2);  // the next queued call started
  EXPECT_EQ(outstanding.size(), 3u);
  outstanding[1](Status::Ok());
  outstanding[2](Status::Ok());
  outstanding[3](Status::Ok());
  EXPECT_EQ(done, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(q.in_flight(), 0);
}

TEST(OpQueue, TimesOutSilentCallsAndDropsLateAnswers) {
  SimClock clock;
  SimLoop loop(clock);
  OpQueue q(loop, 1);
  OpQueue::Finish late;
  std::vector<StatusCode> results;
  q.Submit("Terminate(i-1)", std::chrono::seconds(5),
           [&](OpQueue::Finish f) { late = f; },
           [&](Status s) { results.push_back(s.code()); });
  loop.RunFor(std::chrono::seconds(6));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], StatusCode::kDeadlineExceeded);
  late(Status::Ok());  // the provider answers after all: ignored
  EXPECT_EQ(results.size(), 1u);
  EXPECT_EQ(q.timeouts(), 1u);
  EXPECT_EQ(q.in_flight(), 0);
}

}  // namespace
}  // namespace lifeline
