// B13 (../shared/BENCHMARKS.md): durable history. Appends history events
// through DurableHistory onto SqliteStore (WAL, synchronous=FULL: every
// commit fsyncs, so whatever Flush acknowledged survives kill -9 and power
// loss) and reports the sustained events/s, against a baseline measured in
// the same run on the same disk: raw SQLite WAL inserts of the same rows
// (same schema and indexes) in one big transaction. Also reports the
// latency of one small Commit and of one acknowledged history event.
//
//   bench_store [DIR]   (DIR: where to put the databases; default /tmp)
// Bounded to well under 30 s.
#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/report.h"
#include "core/clock.h"
#include "store/durable_history.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"

namespace lifeline {
namespace {

constexpr size_t kBaselineRows = 200000;
constexpr Duration kSustainFor = seconds(3);
constexpr size_t kMaxPendingBeforeFlush = 200000;
constexpr int kLatencySamples = 300;

// A realistic mix: a few thousand instances over 3 zones and 20 groups.
std::vector<HistoryEvent> MakeEvents(size_t n, WallTime at) {
  std::mt19937_64 rng(42);
  static const char* kTypes[] = {"instance.heartbeat_lost",
                                 "instance.unhealthy", "recovery.started",
                                 "recovery.step_done", "safety.refused"};
  std::vector<HistoryEvent> out(n);
  for (size_t i = 0; i < n; ++i) {
    HistoryEvent& e = out[i];
    const uint64_t r = rng();
    char id[24];
    std::snprintf(id, sizeof id, "i-%08llx",
                  static_cast<unsigned long long>(r % 100000));
    e.at = at + milliseconds(i);
    e.kind = static_cast<EventKind>(r % 6);
    e.type = kTypes[(r >> 20) % 5];
    e.group = "group-" + std::to_string((r >> 24) % 20);
    e.zone = std::string("us-east-1") + static_cast<char>('a' + (r >> 30) % 3);
    e.instance = id;
    e.rule = "phi>8";
    e.message =
        "heartbeat silent for 3 intervals; suspicion confirmed by probe";
    e.evidence = {{"phi", "9.7"}, {"last_heartbeat_ms", "312"}};
  }
  return out;
}

// Raw SQLite: the same rows into the same schema in ONE transaction (one
// fsync in total) — the ceiling for this disk and this schema.
double BaselineEventsPerSecond(const std::string& path,
                               const std::vector<HistoryEvent>& events,
                               Clock& clock) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  // The same page cache SqliteStore uses by default.
  db.exec("PRAGMA cache_size = -" +
          std::to_string(SqliteStore::Options().cache_bytes / 1024));
  sqlite_schema::MigrateTo(db, sqlite_schema::LatestVersion());
  SQLite::Statement ins(db,
                        "INSERT INTO history (seq, at_ns, kind, type, grp, "
                        "zone, instance, rule, message, evidence) VALUES "
                        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  const MonoTime start = clock.Now();
  SQLite::Transaction txn(db);
  uint64_t seq = 0;
  for (const HistoryEvent& e : events) {
    const std::string kind(ToString(e.kind));
    const std::string evidence = sqlite_schema::EncodeEvidence(e.evidence);
    ins.bind(1, static_cast<int64_t>(++seq));
    ins.bind(2, static_cast<int64_t>(std::chrono::duration_cast<nanoseconds>(
                                         e.at.time_since_epoch())
                                         .count()));
    ins.bindNoCopy(3, kind);
    ins.bindNoCopy(4, e.type);
    ins.bindNoCopy(5, e.group);
    ins.bindNoCopy(6, e.zone);
    ins.bindNoCopy(7, e.instance);
    ins.bindNoCopy(8, e.rule);
    ins.bindNoCopy(9, e.message);
    ins.bindNoCopy(10, evidence);
    ins.exec();
    ins.reset();
  }
  txn.commit();
  return static_cast<double>(events.size()) / ToSeconds(clock.Now() - start);
}

struct Sustained {
  double events_per_s = 0;
  double avg_batch = 0;
  uint64_t events = 0;
};

// Appends for kSustainFor as fast as one thread can, flushing only when
// the queue passes kMaxPendingBeforeFlush (backpressure instead of an
// unbounded queue), then waits for the final Flush: every event counted is
// committed with fsync.
Result<Sustained> Sustain(Store& store, Clock& clock,
                          const std::vector<HistoryEvent>& events,
                          size_t max_batch) {
  DurableHistory::Options ho;
  ho.max_batch = max_batch;
  auto history = DurableHistory::Open(store, clock, ho);
  if (!history.ok()) return history.status();
  DurableHistory& h = **history;
  const MonoTime start = clock.Now();
  Sustained out;
  size_t i = 0;
  while (clock.Now() - start < kSustainFor) {
    for (int k = 0; k < 1000; ++k) {
      h.Append(events[i]);
      i = (i + 1) % events.size();
    }
    out.events += 1000;
    if (h.stats().pending > kMaxPendingBeforeFlush) {
      LIFELINE_RETURN_IF_ERROR(h.Flush());
    }
  }
  LIFELINE_RETURN_IF_ERROR(h.Flush());
  out.events_per_s =
      static_cast<double>(out.events) / ToSeconds(clock.Now() - start);
  out.avg_batch = static_cast<double>(out.events) /
                  static_cast<double>(std::max<uint64_t>(h.stats().commits, 1));
  return out;
}

Result<std::unique_ptr<SqliteStore>> OpenStore(const std::filesystem::path& p) {
  SqliteStore::Options so;
  so.path = p.string();
  return SqliteStore::Open(so);
}

Status Run(const std::filesystem::path& dir) {
  RealClock clock;
  const std::vector<HistoryEvent> events =
      MakeEvents(kBaselineRows, clock.WallNow());

  // The machine is shared: take the better of two baseline runs, one
  // before and one after the measured runs.
  double baseline =
      BaselineEventsPerSecond((dir / "baseline1.db").string(), events, clock);

  auto store = OpenStore(dir / "state.db");
  if (!store.ok()) return store.status();
  auto with_default =
      Sustain(**store, clock, events, DurableHistory::Options().max_batch);
  if (!with_default.ok()) return with_default.status();

  auto big_store = OpenStore(dir / "state-big-batches.db");
  if (!big_store.ok()) return big_store.status();
  auto with_big = Sustain(**big_store, clock, events, 50000);
  if (!with_big.ok()) return with_big.status();
  big_store->reset();

  baseline = std::max(
      baseline,
      BaselineEventsPerSecond((dir / "baseline2.db").string(), events, clock));

  bench::Report("B13", "durable_history_events_per_s",
                with_default->events_per_s, "events/s", baseline);
  bench::Report("B13", "durable_history_avg_batch", with_default->avg_batch,
                "events/commit");
  bench::Report("B13", "durable_history_events",
                static_cast<double>(with_default->events), "count");
  bench::Report("B13", "durable_history_batch50k_events_per_s",
                with_big->events_per_s, "events/s", baseline);
  bench::Report("B13", "durable_history_batch50k_avg_batch",
                with_big->avg_batch, "events/commit");
  bench::Report("B13", "raw_sqlite_wal_one_txn_events_per_s", baseline,
                "events/s");

  // One acknowledged history event: Append + Flush on an idle writer.
  {
    auto history = DurableHistory::Open(**store, clock, {});
    if (!history.ok()) return history.status();
    std::vector<double> ack_ms;
    for (int n = 0; n < kLatencySamples; ++n) {
      const MonoTime t0 = clock.Now();
      (*history)->Append(events[static_cast<size_t>(n)]);
      LIFELINE_RETURN_IF_ERROR((*history)->Flush());
      ack_ms.push_back(ToMillis(clock.Now() - t0));
    }
    bench::ReportLatency("B13", "history_event_ack_latency", ack_ms, "ms");
  }

  // One small crash-safe Commit (a workflow journal step).
  std::vector<double> commit_ms;
  for (int n = 0; n < kLatencySamples; ++n) {
    WriteBatch b;
    b.Put(Namespace::kWorkflows, "wf-" + std::to_string(n % 50) + "/step",
          R"({"step":"launch","token":"c0ffee-)" + std::to_string(n) +
              R"(","state":"started"})");
    const MonoTime t0 = clock.Now();
    LIFELINE_RETURN_IF_ERROR((*store)->Commit(b));
    commit_ms.push_back(ToMillis(clock.Now() - t0));
  }
  bench::ReportLatency("B13", "commit_latency", commit_ms, "ms");
  return Status::Ok();
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  const std::filesystem::path base =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::temp_directory_path();
  std::string tmpl = (base / "lifeline-b13-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("bench_store: mkdtemp");
    return 1;
  }
  std::printf("# B13 databases in %s (removed afterwards)\n", tmpl.c_str());
  const lifeline::Status st = lifeline::Run(tmpl);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  if (!st.ok()) {
    std::fprintf(stderr, "bench_store: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
