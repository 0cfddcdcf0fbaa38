#include "store/durable_history.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "store/test_util.h"

namespace lifeline {
namespace {

HistoryEvent Ev(std::string type, std::string instance = "i-1",
                std::string zone = "a") {
  HistoryEvent e;
  e.type = std::move(type);
  e.instance = std::move(instance);
  e.zone = std::move(zone);
  e.group = "web";
  return e;
}

std::vector<uint64_t> Seqs(const std::vector<HistoryEvent>& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v) out.push_back(e.seq);
  return out;
}

std::vector<uint64_t> StoredSeqs(Store& s) {
  HistoryQuery all;
  all.limit = 1u << 30;
  return Seqs(*s.QueryHistory(all));
}

std::unique_ptr<DurableHistory> OpenOrDie(Store& store, Clock& clock,
                                          DurableHistory::Options o = {}) {
  auto h = DurableHistory::Open(store, clock, o);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return std::move(h).value();
}

TEST(DurableHistory, BehavesLikeMemoryHistoryAndNotifiesListeners) {
  MemoryStore store;
  SimClock clock;
  auto h = OpenOrDie(store, clock);
  MemoryHistory reference;
  std::vector<uint64_t> seen;
  h->AddListener([&](const HistoryEvent& e) { seen.push_back(e.seq); });
  const std::vector<HistoryEvent> evs = {
      Ev("instance.unhealthy", "i-1", "a"), Ev("recovery.started", "i-1", "a"),
      Ev("instance.unhealthy", "i-2", "b"), Ev("instance.healthy", "i-2", "b")};
  for (const auto& e : evs) {
    EXPECT_EQ(h->Append(e), reference.Append(e));
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4}));
  std::vector<HistoryQuery> queries(5);
  queries[1].instance = "i-1";
  queries[2].type_prefix = "instance.";
  queries[3].after_seq = 2;
  queries[4].limit = 2;
  for (const auto& q : queries) {
    EXPECT_EQ(Seqs(h->Query(q)), Seqs(reference.Query(q)));
  }
}

TEST(DurableHistory, FlushMakesEverythingAppendedDurable) {
  MemoryStore store;
  SimClock clock;
  auto h = OpenOrDie(store, clock);
  for (int i = 0; i < 1000; ++i) h->Append(Ev("t" + std::to_string(i)));
  ASSERT_TRUE(h->Flush().ok());
  // What a crash right now would leave behind:
  MemoryStore restarted(store.Snapshot());
  EXPECT_EQ(StoredSeqs(restarted).size(), 1000u);
  auto st = h->stats();
  EXPECT_EQ(st.appended, 1000u);
  EXPECT_EQ(st.committed, 1000u);
  EXPECT_EQ(st.pending, 0u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.last_committed_seq, 1000u);
  EXPECT_GE(st.commits, 1u);
  EXPECT_TRUE(h->Flush().ok());  // nothing new: returns at once
}

TEST(DurableHistory, CommitsInBatchesOfAtMostMaxBatch) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.max_batch = 100;
  auto h = OpenOrDie(store, clock, o);
  for (int i = 0; i < 1000; ++i) h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());
  EXPECT_GE(h->stats().commits, 10u);
  EXPECT_EQ(store.commits(), h->stats().commits);
}

TEST(DurableHistory, SeqsContinueAfterRestartAndOldEventsStayQueryable) {
  MemoryStore store;
  SimClock clock;
  {
    auto h = OpenOrDie(store, clock);
    h->Append(Ev("a"));
    h->Append(Ev("b"));
    h->Append(Ev("c"));
    ASSERT_TRUE(h->Flush().ok());
  }
  MemoryStore restarted(store.Snapshot());
  auto h = OpenOrDie(restarted, clock);
  EXPECT_EQ(h->Append(Ev("d")), 4u);
  EXPECT_EQ(Seqs(h->Query({})), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(h->Query({})[0].type, "a");
}

TEST(DurableHistory, QueriesReachPastMemoryIntoTheStore) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.memory_capacity = 3;
  auto h = OpenOrDie(store, clock, o);
  MemoryHistory reference;
  for (int i = 0; i < 10; ++i) {
    auto e = Ev("t", i % 2 ? "odd" : "even");
    h->Append(e);
    reference.Append(e);
  }
  ASSERT_TRUE(h->Flush().ok());
  std::vector<HistoryQuery> queries(6);
  queries[1].instance = "even";
  queries[2].limit = 4;
  queries[3].after_seq = 5;
  queries[4].instance = "odd";
  queries[4].limit = 2;
  queries[5].after_seq = 8;
  for (size_t i = 0; i < queries.size(); ++i) {
    EXPECT_EQ(Seqs(h->Query(queries[i])), Seqs(reference.Query(queries[i])))
        << "query " << i;
  }
  EXPECT_EQ(h->Query({}).size(), 10u);
}

TEST(DurableHistory, OldestFirstReachesPastMemoryIntoTheStore) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.memory_capacity = 4;  // memory holds 17..20 once all are appended
  auto h = OpenOrDie(store, clock, o);
  MemoryHistory reference;
  for (int i = 0; i < 20; ++i) {
    auto e = Ev("t", i % 2 ? "odd" : "even");
    h->Append(e);
    reference.Append(e);
  }
  ASSERT_TRUE(h->Flush().ok());
  std::vector<HistoryQuery> queries(7);
  queries[1].instance = "even";
  queries[2].limit = 4;  // memory alone has 4 matches, the wrong ones
  queries[3].after_seq = 5;
  queries[3].limit = 3;
  queries[4].instance = "odd";
  queries[4].limit = 2;
  queries[5].after_seq = 14;  // store and memory both contribute
  queries[5].limit = 5;
  queries[6].after_seq = 17;  // memory reaches back: it alone answers
  queries[6].limit = 2;
  for (size_t i = 0; i < queries.size(); ++i) {
    queries[i].oldest_first = true;
    EXPECT_EQ(Seqs(h->Query(queries[i])), Seqs(reference.Query(queries[i])))
        << "query " << i;
  }
  EXPECT_EQ(Seqs(h->Query(queries[2])), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Seqs(h->Query(queries[5])),
            (std::vector<uint64_t>{15, 16, 17, 18, 19}));

  // Paging forward with a limit walks every event once, across the seam
  // between store and memory.
  HistoryQuery page;
  page.limit = 3;
  page.oldest_first = true;
  std::vector<uint64_t> walked;
  for (int n = 0; n < 100; ++n) {
    auto r = h->Query(page);
    for (const auto& e : r) walked.push_back(e.seq);
    if (r.size() < page.limit) break;
    page.after_seq = r.back().seq;
  }
  EXPECT_EQ(walked, StoredSeqs(store));
  EXPECT_EQ(walked.size(), 20u);
}

TEST(DurableHistory, OldestFirstMergesEventsNotYetCommitted) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.memory_capacity = 4;
  auto h = OpenOrDie(store, clock, o);
  for (int i = 0; i < 6; ++i) h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());
  // 7 and 8 are only in memory while the store refuses them.
  store.FailNext(1 << 30, Unavailable("store: injected outage"));
  h->Append(Ev("t"));
  h->Append(Ev("t"));
  EXPECT_FALSE(h->Flush().ok());
  HistoryQuery q;
  q.after_seq = 1;
  q.limit = 10;
  q.oldest_first = true;
  EXPECT_EQ(Seqs(h->Query(q)), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8}));
  q.limit = 3;
  EXPECT_EQ(Seqs(h->Query(q)), (std::vector<uint64_t>{2, 3, 4}));
  store.FailNext(0, Status());
  ASSERT_TRUE(h->Flush().ok());
}

TEST(DurableHistory, TryQuerySaysWhenTheStoreIsNeededButUnreadable) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.memory_capacity = 4;  // memory holds 7..10
  auto h = OpenOrDie(store, clock, o);
  for (int i = 0; i < 10; ++i) h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());
  store.FailQueries(Unavailable("store: injected: disk I/O error"));
  HistoryQuery forward;
  forward.after_seq = 2;
  forward.oldest_first = true;
  auto r = h->TryQuery(forward);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("disk I/O error"), std::string::npos);
  // Query gives nothing rather than a page that skips 3..6.
  EXPECT_TRUE(h->Query(forward).empty());
  // Memory alone answers what it can: the newest, or paging from 7 on.
  HistoryQuery newest;
  newest.limit = 2;
  EXPECT_EQ(Seqs(*h->TryQuery(newest)), (std::vector<uint64_t>{9, 10}));
  forward.after_seq = 7;
  EXPECT_EQ(Seqs(*h->TryQuery(forward)), (std::vector<uint64_t>{8, 9, 10}));
  store.FailQueries(Status());
  forward.after_seq = 2;
  EXPECT_EQ(Seqs(*h->TryQuery(forward)),
            (std::vector<uint64_t>{3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(DurableHistory, AFailingStoreKeepsEventsQueuedUntilItRecovers) {
  MemoryStore store;
  SimClock clock;
  auto h = OpenOrDie(store, clock);
  store.FailNext(1 << 30, Unavailable("store: injected: database is locked"));
  h->Append(Ev("a"));
  h->Append(Ev("b"));
  Status st = h->Flush();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(),
            "history: Flush: store: injected: database is locked");
  EXPECT_EQ(h->last_error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(h->stats().pending, 2u);
  EXPECT_GE(h->stats().commit_failures, 1u);
  EXPECT_TRUE(StoredSeqs(store).empty());
  // Queries still see the events (from memory).
  EXPECT_EQ(h->Query({}).size(), 2u);

  store.FailNext(0, Status());
  ASSERT_TRUE(h->Flush().ok());
  EXPECT_EQ(StoredSeqs(store), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(h->stats().pending, 0u);
}

TEST(DurableHistory, DropsTheOldestBeyondMaxPendingAndFlushReportsIt) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.max_pending = 3;
  auto h = OpenOrDie(store, clock, o);
  store.FailNext(1 << 30, Unavailable("store: injected outage"));
  for (int i = 0; i < 5; ++i) h->Append(Ev("t"));
  Status st = h->Flush();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("2 events were dropped"), std::string::npos)
      << st.message();
  auto stats = h->stats();
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(stats.pending, 3u);
  store.FailNext(0, Status());
  ASSERT_TRUE(h->Flush().ok());
  EXPECT_EQ(StoredSeqs(store), (std::vector<uint64_t>{3, 4, 5}));
}

TEST(DurableHistory, RetentionPrunesTheStoreAndMemoryOnItsInterval) {
  MemoryStore store;
  SimClock clock;
  DurableHistory::Options o;
  o.retention.max_count = 3;
  o.prune_interval = minutes(1);
  auto h = OpenOrDie(store, clock, o);
  h->Append(Ev("first"));
  ASSERT_TRUE(h->Flush().ok());  // the first commit prunes (nothing to do)
  for (int i = 0; i < 9; ++i) h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());
  EXPECT_EQ(StoredSeqs(store).size(), 10u);  // interval not yet over

  clock.Advance(minutes(2));
  h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());  // commit 11, then the writer prunes
  h->Append(Ev("t"));
  ASSERT_TRUE(h->Flush().ok());  // commit 12 comes after that prune
  EXPECT_EQ(StoredSeqs(store), (std::vector<uint64_t>{9, 10, 11, 12}));
  EXPECT_EQ(Seqs(h->Query({})), (std::vector<uint64_t>{9, 10, 11, 12}));
}

TEST(DurableHistory, ConcurrentAppendersGetUniqueSeqsInListenerOrder) {
  MemoryStore store;
  SimClock clock;
  auto h = OpenOrDie(store, clock);
  std::vector<uint64_t> seen;
  h->AddListener([&](const HistoryEvent& e) { seen.push_back(e.seq); });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 500; ++i) h->Append(Ev("t"));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(h->Flush().ok());
  std::vector<uint64_t> expected(2000);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(StoredSeqs(store), expected);
}

TEST(DurableHistory, DestructionCommitsWhatIsQueued) {
  MemoryStore store;
  SimClock clock;
  {
    auto h = OpenOrDie(store, clock);
    for (int i = 0; i < 50; ++i) h->Append(Ev("t"));
  }
  EXPECT_EQ(StoredSeqs(store).size(), 50u);
}

TEST(DurableHistory, PersistsThroughSqliteAcrossReopen) {
  testing_util::TempDir dir;
  SimClock clock;
  SqliteStore::Options so;
  so.path = dir.File("state.db");
  {
    auto store = SqliteStore::Open(so);
    ASSERT_TRUE(store.ok());
    auto h = OpenOrDie(**store, clock);
    HistoryEvent e = Ev("safety.refused", "i-9", "c");
    e.kind = EventKind::kRefusal;
    e.evidence = {{"budget", "2/2"}};
    h->Append(e);
    h->Append(Ev("instance.healthy", "i-9", "c"));
    ASSERT_TRUE(h->Flush().ok());
  }
  auto store = SqliteStore::Open(so);
  ASSERT_TRUE(store.ok());
  auto h = OpenOrDie(**store, clock);
  HistoryQuery q;
  q.kind = EventKind::kRefusal;
  auto r = h->Query(q);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].evidence[0].second, "2/2");
  EXPECT_EQ(h->Append(Ev("next")), 3u);
}

}  // namespace
}  // namespace lifeline
