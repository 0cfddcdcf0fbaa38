// Crash safety: a child process commits numbered batches and history
// through SqliteStore + DurableHistory and reports each acknowledged number
// on a pipe; the parent kill -9s it at a random point, reopens the database
// and checks that every acknowledged write is there and the data is
// consistent. No sleeps: the pipe is the only synchronisation.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <set>

#include "store/durable_history.h"
#include "store/sqlite_store.h"
#include "store/test_util.h"

namespace lifeline {
namespace {

constexpr uint64_t kChildIterations = 100000;
constexpr int kNoiseEventsPerIteration = 20;

// Each run writes its own keys, so runs do not disturb each other's checks.
std::string Key(int run, uint64_t n) {
  return "r" + std::to_string(run) + "/" + std::to_string(n);
}
std::string Counter(int run) { return "counter/" + std::to_string(run); }

// The child: never returns. Exit code 2 means a store call failed.
[[noreturn]] void RunChild(const std::string& path, int run, int ack_fd) {
  SqliteStore::Options so;
  so.path = path;
  auto store = SqliteStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "child: %s\n", store.status().ToString().c_str());
    _exit(2);
  }
  RealClock clock;
  DurableHistory::Options ho;
  ho.max_batch = 64;
  auto history = DurableHistory::Open(**store, clock, ho);
  if (!history.ok()) _exit(2);
  DurableHistory& h = **history;
  for (uint64_t n = 1; n <= kChildIterations; ++n) {
    // Unflushed noise keeps the writer busy, so the kill often lands
    // mid-commit.
    for (int i = 0; i < kNoiseEventsPerIteration; ++i) {
      HistoryEvent noise;
      noise.type = "noise";
      noise.message = std::to_string(n);
      h.Append(std::move(noise));
    }
    WriteBatch b;
    b.Put(Namespace::kInstances, Key(run, n), std::to_string(n))
        .Put(Namespace::kMeta, Counter(run), std::to_string(n))
        .Delete(Namespace::kInstances, Key(run, n > 3 ? n - 3 : 0));
    Status st = (*store)->Commit(b);
    HistoryEvent tick;
    tick.type = "tick";
    tick.message = std::to_string(n);
    h.Append(std::move(tick));
    if (st.ok()) st = h.Flush();
    if (!st.ok()) {
      std::fprintf(stderr, "child: %s\n", st.ToString().c_str());
      _exit(2);
    }
    if (write(ack_fd, &n, sizeof n) != sizeof n) _exit(3);
  }
  _exit(0);
}

struct CrashOutcome {
  std::vector<uint64_t> acked;
  bool killed = false;
};

// Forks the child, reads acknowledgements until `kill_after` have arrived,
// kills it with SIGKILL, then collects any acknowledgements already in the
// pipe (they were acknowledged before the kill too).
CrashOutcome RunAndKill(const std::string& path, int run, uint64_t kill_after) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(fds[0]);
    RunChild(path, run, fds[1]);
  }
  close(fds[1]);
  CrashOutcome out;
  uint64_t n = 0;
  while (out.acked.size() < kill_after &&
         read(fds[0], &n, sizeof n) == sizeof n) {
    out.acked.push_back(n);
  }
  out.killed = kill(pid, SIGKILL) == 0;
  int status = 0;
  waitpid(pid, &status, 0);
  while (read(fds[0], &n, sizeof n) == sizeof n) out.acked.push_back(n);
  close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child ended on its own with status " << status;
  return out;
}

TEST(StoreCrash, EveryAcknowledgedWriteSurvivesKill9) {
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  uint64_t acked_before = 0;  // acknowledged in earlier runs
  for (int run = 0; run < 6; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const uint64_t kill_after =
        std::uniform_int_distribution<uint64_t>(1, 60)(rng);
    CrashOutcome outcome = RunAndKill(path, run, kill_after);
    ASSERT_GE(outcome.acked.size(), kill_after);
    const uint64_t max_acked = outcome.acked.back();

    auto store = SqliteStore::Open({.path = path});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    SqliteStore& s = **store;
    ASSERT_TRUE(s.CheckIntegrity().ok());

    // The key-value side: the counter and the newest keys of the last
    // acknowledged batch are present, and batches are all-or-nothing: the
    // surviving keys are exactly the window a whole batch leaves.
    auto counter = s.Get(Namespace::kMeta, Counter(run));
    ASSERT_TRUE(counter.ok() && counter->has_value());
    const uint64_t c = std::stoull(counter->value());
    EXPECT_GE(c, max_acked);
    EXPECT_LE(c, max_acked + 1);  // at most the one in flight at the kill
    auto keys = s.List(Namespace::kInstances, "r" + std::to_string(run) + "/");
    ASSERT_TRUE(keys.ok());
    std::set<uint64_t> present;
    for (const auto& [k, v] : *keys) {
      EXPECT_EQ(k, Key(run, std::stoull(v)));
      present.insert(std::stoull(v));
    }
    std::set<uint64_t> expected;
    for (uint64_t n = c > 2 ? c - 2 : 1; n <= c; ++n) expected.insert(n);
    EXPECT_EQ(present, expected);

    // The history: every acknowledged tick of this run is there, in seq
    // order after the earlier runs' events, with no gaps or duplicates in
    // the acknowledged numbers.
    HistoryQuery ticks;
    ticks.type_prefix = "tick";
    ticks.limit = 1u << 30;
    auto got = s.QueryHistory(ticks);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_GE(got->size(), acked_before + outcome.acked.size());
    std::vector<uint64_t> this_run;
    uint64_t prev_seq = 0;
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_GT((*got)[i].seq, prev_seq);
      prev_seq = (*got)[i].seq;
      if (i >= acked_before) this_run.push_back(std::stoull((*got)[i].message));
    }
    for (size_t i = 0; i < outcome.acked.size(); ++i) {
      ASSERT_LT(i, this_run.size());
      EXPECT_EQ(this_run[i], outcome.acked[i]);
    }
    EXPECT_GE(*s.LastHistorySeq(), prev_seq);
    acked_before = got->size();
  }
}

}  // namespace
}  // namespace lifeline
