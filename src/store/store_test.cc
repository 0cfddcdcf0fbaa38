// The behaviour every Store implementation shares, as one typed suite. Each
// implementation supplies a Fixture with Open() (a fresh store) and
// Reopen() (the same data as a restarted process would find it).
#include <gtest/gtest.h>

#include <memory>

#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "store/test_util.h"

namespace lifeline {
namespace {

struct MemoryFixture {
  std::unique_ptr<MemoryStore> store = std::make_unique<MemoryStore>();
  Store& Open() { return *store; }
  Store& Reopen() {
    store = std::make_unique<MemoryStore>(store->Snapshot());
    return *store;
  }
};

struct SqliteFixture {
  testing_util::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  Store& Open() { return Reopen(); }
  Store& Reopen() {
    store.reset();
    SqliteStore::Options o;
    o.path = dir.File("state.db");
    auto s = SqliteStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(s).value();
    return *store;
  }
};

template <typename F>
class StoreTest : public ::testing::Test {
 protected:
  F fixture;
};
using Implementations = ::testing::Types<MemoryFixture, SqliteFixture>;
TYPED_TEST_SUITE(StoreTest, Implementations);

HistoryEvent Ev(std::string type, std::string instance, std::string zone,
                int64_t at_s = 0, std::string group = "web") {
  HistoryEvent e;
  e.at = WallTime(seconds(at_s));
  e.type = std::move(type);
  e.instance = std::move(instance);
  e.zone = std::move(zone);
  e.group = std::move(group);
  return e;
}

std::vector<uint64_t> Seqs(const std::vector<HistoryEvent>& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v) out.push_back(e.seq);
  return out;
}

TYPED_TEST(StoreTest, GetReturnsNulloptForAbsentKey) {
  Store& s = this->fixture.Open();
  auto r = s.Get(Namespace::kGroups, "web");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
}

TYPED_TEST(StoreTest, CommitPutsAndDeletesAcrossNamespaces) {
  Store& s = this->fixture.Open();
  WriteBatch b;
  b.Put(Namespace::kGroups, "web", R"({"desired":3})")
      .Put(Namespace::kInstances, "i-1", R"({"zone":"a"})")
      .Put(Namespace::kFlags, "fleet", "frozen");
  ASSERT_TRUE(s.Commit(b).ok());
  EXPECT_EQ(s.Get(Namespace::kGroups, "web")->value(), R"({"desired":3})");
  EXPECT_EQ(s.Get(Namespace::kInstances, "i-1")->value(), R"({"zone":"a"})");
  // Namespaces are separate: the same key elsewhere is absent.
  EXPECT_FALSE(s.Get(Namespace::kInstances, "web")->has_value());

  WriteBatch d;
  d.Delete(Namespace::kFlags, "fleet")
      .Delete(Namespace::kFlags, "never-there")
      .Put(Namespace::kGroups, "web", "v2");
  ASSERT_TRUE(s.Commit(d).ok());
  EXPECT_FALSE(s.Get(Namespace::kFlags, "fleet")->has_value());
  EXPECT_EQ(s.Get(Namespace::kGroups, "web")->value(), "v2");
}

TYPED_TEST(StoreTest, LaterOperationsInABatchWin) {
  Store& s = this->fixture.Open();
  WriteBatch b;
  b.Put(Namespace::kShifts, "a", "1")
      .Put(Namespace::kShifts, "a", "2")
      .Put(Namespace::kShifts, "b", "1")
      .Delete(Namespace::kShifts, "b");
  ASSERT_TRUE(s.Commit(b).ok());
  EXPECT_EQ(s.Get(Namespace::kShifts, "a")->value(), "2");
  EXPECT_FALSE(s.Get(Namespace::kShifts, "b")->has_value());
}

TYPED_TEST(StoreTest, ValuesKeepArbitraryBytes) {
  Store& s = this->fixture.Open();
  std::string value("a\0b\xff\n", 5);
  std::string key("k\0\x01", 3);
  ASSERT_TRUE(s.Commit(WriteBatch().Put(Namespace::kMeta, key, value)).ok());
  EXPECT_EQ(s.Get(Namespace::kMeta, key)->value(), value);
  ASSERT_TRUE(s.Commit(WriteBatch().Put(Namespace::kMeta, "empty", "")).ok());
  auto empty = s.Get(Namespace::kMeta, "empty");
  ASSERT_TRUE(empty->has_value());
  EXPECT_EQ(empty->value(), "");
}

TYPED_TEST(StoreTest, AFailingBatchLeavesNothing) {
  Store& s = this->fixture.Open();
  ASSERT_TRUE(
      s.Commit(WriteBatch().Put(Namespace::kWorkflows, "w1", "old")).ok());
  WriteBatch bad;
  bad.Put(Namespace::kWorkflows, "w2", "new")
      .Delete(Namespace::kWorkflows, "w1")
      .Put(Namespace::kGroups, "", "empty key");
  Status st = s.Commit(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Commit(3 writes)"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("write #3"), std::string::npos) << st.message();
  EXPECT_FALSE(s.Get(Namespace::kWorkflows, "w2")->has_value());
  EXPECT_EQ(s.Get(Namespace::kWorkflows, "w1")->value(), "old");
}

TYPED_TEST(StoreTest, EmptyBatchIsOk) {
  Store& s = this->fixture.Open();
  EXPECT_TRUE(s.Commit(WriteBatch()).ok());
}

TYPED_TEST(StoreTest, ListReturnsPrefixMatchesInKeyOrder) {
  Store& s = this->fixture.Open();
  WriteBatch b;
  for (const char* k : {"wf/2/step/1", "wf/1/step/2", "wf/1/step/1", "wf/10",
                        "wf/1", "wg", "w"}) {
    b.Put(Namespace::kWorkflows, k, std::string("v:") + k);
  }
  b.Put(Namespace::kGroups, "wf/1/other-ns", "x");
  ASSERT_TRUE(s.Commit(b).ok());
  auto r = s.List(Namespace::kWorkflows, "wf/1");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : *r) {
    keys.push_back(k);
    EXPECT_EQ(v, "v:" + k);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"wf/1", "wf/1/step/1",
                                            "wf/1/step/2", "wf/10"}));
  EXPECT_EQ(s.List(Namespace::kWorkflows)->size(), 7u);
  EXPECT_EQ(s.List(Namespace::kWorkflows, "zzz")->size(), 0u);
  EXPECT_EQ(s.List(Namespace::kFlags)->size(), 0u);
}

TYPED_TEST(StoreTest, ListHandlesPrefixesEndingInHighBytes) {
  Store& s = this->fixture.Open();
  std::string p("a\xff", 2);
  WriteBatch b;
  b.Put(Namespace::kMeta, p, "1")
      .Put(Namespace::kMeta, p + "\xff", "2")
      .Put(Namespace::kMeta, p + "x", "3")
      .Put(Namespace::kMeta, "b", "4")
      .Put(Namespace::kMeta, "a", "5");
  ASSERT_TRUE(s.Commit(b).ok());
  auto r = s.List(Namespace::kMeta, p);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].second, "1");
  EXPECT_EQ((*r)[1].second, "3");
  EXPECT_EQ((*r)[2].second, "2");
}

TYPED_TEST(StoreTest, CommittedStateSurvivesRestart) {
  Store& s = this->fixture.Open();
  ASSERT_TRUE(
      s.Commit(WriteBatch().Put(Namespace::kGroups, "web", "spec")).ok());
  ASSERT_TRUE(s.AppendHistory({Ev("a", "i-1", "z"), Ev("b", "i-2", "z")}).ok());
  Store& r = this->fixture.Reopen();
  EXPECT_EQ(r.Get(Namespace::kGroups, "web")->value(), "spec");
  EXPECT_EQ(Seqs(*r.QueryHistory({})), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(*r.LastHistorySeq(), 2u);
}

TYPED_TEST(StoreTest, HistoryRoundTripsEveryField) {
  Store& s = this->fixture.Open();
  HistoryEvent e;
  e.at = WallTime(nanoseconds(1767225600123456789));
  e.kind = EventKind::kRefusal;
  e.type = "safety.refused";
  e.group = "web";
  e.zone = "us-east-1a";
  e.instance = "i-0abc";
  e.rule = "group-budget";
  e.message = "refused to terminate: budget 2/2 used";
  e.evidence = {{"budget", "2"}, {"used", "2"}, {"", ""}, {"bin", {"\0:", 2}}};
  ASSERT_TRUE(s.AppendHistory({e}).ok());
  auto r = s.QueryHistory({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const HistoryEvent& got = (*r)[0];
  EXPECT_EQ(got.seq, 1u);
  EXPECT_EQ(got.at, e.at);
  EXPECT_EQ(got.kind, e.kind);
  EXPECT_EQ(got.type, e.type);
  EXPECT_EQ(got.group, e.group);
  EXPECT_EQ(got.zone, e.zone);
  EXPECT_EQ(got.instance, e.instance);
  EXPECT_EQ(got.rule, e.rule);
  EXPECT_EQ(got.message, e.message);
  EXPECT_EQ(got.evidence, e.evidence);
}

TYPED_TEST(StoreTest, AppendAssignsSeqsAndKeepsGivenOnes) {
  Store& s = this->fixture.Open();
  EXPECT_EQ(*s.LastHistorySeq(), 0u);
  auto a = Ev("a", "i", "z");
  auto b = Ev("b", "i", "z");
  b.seq = 10;
  auto c = Ev("c", "i", "z");
  ASSERT_TRUE(s.AppendHistory({a, b, c}).ok());
  EXPECT_EQ(Seqs(*s.QueryHistory({})), (std::vector<uint64_t>{1, 10, 11}));
  EXPECT_EQ(*s.LastHistorySeq(), 11u);
  ASSERT_TRUE(s.AppendHistory({}).ok());
}

TYPED_TEST(StoreTest, AppendRefusesSeqsThatDoNotIncreaseAndStoresNothing) {
  Store& s = this->fixture.Open();
  auto a = Ev("a", "i", "z");
  a.seq = 5;
  ASSERT_TRUE(s.AppendHistory({a}).ok());
  auto fresh = Ev("fresh", "i", "z");
  auto stale = Ev("stale", "i", "z");
  stale.seq = 5;
  Status st = s.AppendHistory({fresh, stale});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("seq 5"), std::string::npos) << st.message();
  EXPECT_EQ(Seqs(*s.QueryHistory({})), (std::vector<uint64_t>{5}));
  EXPECT_EQ(*s.LastHistorySeq(), 5u);
}

// The same scenario MemoryHistory is tested with, plus every filter.
TYPED_TEST(StoreTest, HistoryQueryFiltersLikeMemoryHistory) {
  Store& s = this->fixture.Open();
  std::vector<HistoryEvent> evs = {
      Ev("instance.unhealthy", "i-1", "a", 100, "web"),
      Ev("recovery.started", "i-1", "a", 101, "web"),
      Ev("instance.unhealthy", "i-2", "b", 102, "db"),
      Ev("instance.healthy", "i-2", "b", 103, "db"),
      Ev("instancex", "i-3", "a", 104, "web"),
      Ev("safety.refused", "i-3", "c", 105, "web"),
  };
  evs[5].kind = EventKind::kRefusal;
  MemoryHistory reference;
  for (const auto& e : evs) reference.Append(e);
  ASSERT_TRUE(s.AppendHistory(evs).ok());

  std::vector<HistoryQuery> queries(14);
  queries[1].instance = "i-1";
  queries[2].group = "db";
  queries[3].zone = "a";
  queries[4].type_prefix = "instance.";
  queries[5].type_prefix = "instance";
  queries[6].kind = EventKind::kRefusal;
  queries[7].since = WallTime(seconds(102));
  queries[8].until = WallTime(seconds(102));
  queries[9].since = WallTime(seconds(101));
  queries[9].until = WallTime(seconds(103));
  queries[10].after_seq = 4;
  queries[11].limit = 2;
  queries[12].limit = 0;
  queries[13].zone = "a";
  queries[13].type_prefix = "instance";
  queries[13].limit = 1;
  for (size_t i = 0; i < queries.size(); ++i) {
    auto got = s.QueryHistory(queries[i]);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(Seqs(*got), Seqs(reference.Query(queries[i]))) << "query " << i;
  }
  // Spot checks that the reference is what we think it is.
  EXPECT_EQ(Seqs(*s.QueryHistory(queries[4])),
            (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(Seqs(*s.QueryHistory(queries[11])), (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(Seqs(*s.QueryHistory(queries[13])), (std::vector<uint64_t>{5}));
}

TYPED_TEST(StoreTest, OldestFirstPagesForwardLikeMemoryHistory) {
  Store& s = this->fixture.Open();
  std::vector<HistoryEvent> evs;
  MemoryHistory reference;
  for (int i = 0; i < 25; ++i) {
    evs.push_back(Ev(i % 3 ? "instance.unhealthy" : "recovery.started",
                     "i-" + std::to_string(i % 2), "a", 100 + i));
    reference.Append(evs.back());
  }
  ASSERT_TRUE(s.AppendHistory(evs).ok());
  std::vector<HistoryQuery> queries(5);
  queries[1].instance = "i-1";
  queries[2].type_prefix = "instance.";
  queries[2].after_seq = 7;
  queries[3].since = WallTime(seconds(110));
  queries[4].instance = "i-0";
  queries[4].type_prefix = "recovery.";
  for (size_t i = 0; i < queries.size(); ++i) {
    for (size_t limit : {size_t{1}, size_t{4}, size_t{1000}}) {
      HistoryQuery q = queries[i];
      q.limit = limit;
      // The same filters newest-first first: each order has its own
      // (cached) statement and must not reuse the other's.
      ASSERT_TRUE(s.QueryHistory(q).ok());
      q.oldest_first = true;
      auto got = s.QueryHistory(q);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(Seqs(*got), Seqs(reference.Query(q)))
          << "query " << i << " limit " << limit;
    }
  }
  HistoryQuery q;
  q.limit = 3;
  q.oldest_first = true;
  EXPECT_EQ(Seqs(*s.QueryHistory(q)), (std::vector<uint64_t>{1, 2, 3}));
  q.after_seq = 22;
  EXPECT_EQ(Seqs(*s.QueryHistory(q)), (std::vector<uint64_t>{23, 24, 25}));
  q.oldest_first = false;
  q.after_seq = 0;
  EXPECT_EQ(Seqs(*s.QueryHistory(q)), (std::vector<uint64_t>{23, 24, 25}));
  // Paging forward visits every matching event once.
  q.instance = "i-1";
  q.oldest_first = true;
  std::vector<uint64_t> walked;
  for (int page = 0; page < 100; ++page) {
    auto r = s.QueryHistory(q);
    ASSERT_TRUE(r.ok());
    for (const auto& e : *r) walked.push_back(e.seq);
    if (r->size() < q.limit) break;
    q.after_seq = r->back().seq;
  }
  std::vector<uint64_t> expected;
  for (uint64_t seq = 2; seq <= 25; seq += 2) expected.push_back(seq);
  EXPECT_EQ(walked, expected);
}

TYPED_TEST(StoreTest, TypePrefixMatchesBytesExactly) {
  Store& s = this->fixture.Open();
  std::string hi("a\xff", 2);
  ASSERT_TRUE(s.AppendHistory({Ev(hi, "i", "z"), Ev(hi + "b", "i", "z"),
                               Ev("b", "i", "z"), Ev("A\xff", "i", "z")})
                  .ok());
  HistoryQuery q;
  q.type_prefix = hi;
  EXPECT_EQ(Seqs(*s.QueryHistory(q)), (std::vector<uint64_t>{1, 2}));
  q.type_prefix = "";
  EXPECT_EQ(s.QueryHistory(q)->size(), 4u);
}

TYPED_TEST(StoreTest, PruneByCountKeepsTheNewest) {
  Store& s = this->fixture.Open();
  std::vector<HistoryEvent> evs;
  for (int i = 0; i < 10; ++i) evs.push_back(Ev("t", "i", "z", i));
  ASSERT_TRUE(s.AppendHistory(evs).ok());
  HistoryRetention r;
  r.max_count = 3;
  ASSERT_TRUE(s.PruneHistory(r, WallTime(seconds(1000))).ok());
  EXPECT_EQ(Seqs(*s.QueryHistory({})), (std::vector<uint64_t>{8, 9, 10}));
  r.max_count = 0;
  ASSERT_TRUE(s.PruneHistory(r, WallTime(seconds(1000))).ok());
  EXPECT_TRUE(s.QueryHistory({})->empty());
  // Seq numbers continue after everything was pruned, also after restart.
  EXPECT_EQ(*s.LastHistorySeq(), 10u);
  Store& again = this->fixture.Reopen();
  EXPECT_EQ(*again.LastHistorySeq(), 10u);
  ASSERT_TRUE(again.AppendHistory({Ev("next", "i", "z")}).ok());
  EXPECT_EQ(Seqs(*again.QueryHistory({})), (std::vector<uint64_t>{11}));
}

TYPED_TEST(StoreTest, PruneByAgeDropsOlderThanNowMinusMaxAge) {
  Store& s = this->fixture.Open();
  std::vector<HistoryEvent> evs;
  for (int i = 0; i < 10; ++i) evs.push_back(Ev("t", "i", "z", 100 + i));
  ASSERT_TRUE(s.AppendHistory(evs).ok());
  HistoryRetention r;
  r.max_age = seconds(3);
  ASSERT_TRUE(s.PruneHistory(r, WallTime(seconds(109))).ok());
  // Kept: at >= 106 -> seqs 7..10.
  EXPECT_EQ(Seqs(*s.QueryHistory({})), (std::vector<uint64_t>{7, 8, 9, 10}));
  HistoryRetention both;
  both.max_age = seconds(2);
  both.max_count = 3;
  ASSERT_TRUE(s.PruneHistory(both, WallTime(seconds(109))).ok());
  EXPECT_EQ(Seqs(*s.QueryHistory({})), (std::vector<uint64_t>{8, 9, 10}));
  ASSERT_TRUE(s.PruneHistory({}, WallTime(seconds(10000))).ok());
  EXPECT_EQ(s.QueryHistory({})->size(), 3u);
}

TEST(MemoryStore, SnapshotHoldsOnlyWhatWasCommitted) {
  MemoryStore s;
  ASSERT_TRUE(s.Commit(WriteBatch().Put(Namespace::kGroups, "a", "1")).ok());
  auto crashed = s.Snapshot();
  ASSERT_TRUE(s.Commit(WriteBatch().Put(Namespace::kGroups, "b", "2")).ok());
  MemoryStore restarted(crashed);
  EXPECT_TRUE(restarted.Get(Namespace::kGroups, "a")->has_value());
  EXPECT_FALSE(restarted.Get(Namespace::kGroups, "b")->has_value());
}

TEST(MemoryStore, InjectedFailuresApplyNothing) {
  MemoryStore s;
  s.FailNext(2, Unavailable("store: injected outage"));
  EXPECT_EQ(s.Commit(WriteBatch().Put(Namespace::kGroups, "a", "1")).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(s.AppendHistory({Ev("a", "i", "z")}).code(),
            StatusCode::kUnavailable);
  EXPECT_FALSE(s.Get(Namespace::kGroups, "a")->has_value());
  EXPECT_EQ(*s.LastHistorySeq(), 0u);
  EXPECT_TRUE(s.Commit(WriteBatch().Put(Namespace::kGroups, "a", "1")).ok());
  EXPECT_EQ(s.commits(), 1u);
}

}  // namespace
}  // namespace lifeline
