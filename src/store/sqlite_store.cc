#include "store/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <limits>
#include <map>

#include "store/sqlite_schema.h"

namespace lifeline {

namespace {

// The smallest string greater than every string that starts with `prefix`,
// or nullopt when there is none (empty prefix, or only 0xff bytes).
std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

int64_t ToNanos(WallTime t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}

WallTime FromNanos(int64_t ns) {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(nanoseconds(ns)));
}

// Resets a statement when the scope ends, so that no statement is left
// mid-iteration holding a read snapshot open.
class ResetOnExit {
 public:
  explicit ResetOnExit(SQLite::Statement& s) : s_(s) { s_.tryReset(); }
  ~ResetOnExit() { s_.tryReset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  SQLite::Statement& s_;
};

constexpr char kHistoryColumns[] =
    "seq, at_ns, kind, type, grp, zone, instance, rule, message, evidence";

}  // namespace

struct SqliteStore::Statements {
  explicit Statements(SQLite::Database& db)
      : get(db, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2"),
        list_from(db,
                  "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 "
                  "ORDER BY key"),
        list_range(db,
                   "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 "
                   "AND key < ?3 ORDER BY key"),
        put(db,
            "INSERT INTO kv (ns, key, value) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value"),
        del(db, "DELETE FROM kv WHERE ns = ?1 AND key = ?2"),
        insert_history(db, std::string("INSERT INTO history (") +
                               kHistoryColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                               "?9, ?10)"),
        set_last_seq(db, "UPDATE history_state SET last_seq = ?1 WHERE id = 1"),
        prune_count(db,
                    "DELETE FROM history WHERE seq <= (SELECT seq FROM "
                    "history ORDER BY seq DESC LIMIT 1 OFFSET ?1)"),
        prune_age(db, "DELETE FROM history WHERE at_ns < ?1") {}

  SQLite::Statement get, list_from, list_range, put, del, insert_history,
      set_last_seq, prune_count, prune_age;
  // History queries, one per combination of filters present and order.
  std::map<unsigned, std::unique_ptr<SQLite::Statement>> queries;
};

SqliteStore::SqliteStore(Options options, std::unique_ptr<SQLite::Database> db)
    : options_(std::move(options)), db_(std::move(db)) {}

SqliteStore::~SqliteStore() {
  std::lock_guard lock(mu_);
  stmts_.reset();  // statements must be finalized before the connection
  db_.reset();
}

Status SqliteStore::Error(const std::exception& e, const std::string& op) {
  std::string msg = "store: " + op + ": " + e.what();
  const auto* se = dynamic_cast<const SQLite::Exception*>(&e);
  if (se == nullptr) return Internal(msg);
  switch (se->getErrorCode() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(msg +
                      " (the file is damaged or not a SQLite database; "
                      "it was left untouched: restore it from a "
                      "backup or move it away)");
    case SQLITE_FULL:
      return ResourceExhausted(msg);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return FailedPrecondition(msg);
    default:
      return Internal(msg);
  }
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const Options& options) {
  const std::string op = "Open(" + options.path + ")";
  if (options.path.empty()) {
    return InvalidArgument("store: Open: no database path given");
  }
  std::filesystem::path parent =
      std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return FailedPrecondition("store: " + op + ": cannot create directory " +
                                parent.string() + ": " + ec.message());
    }
  }
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(
        options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
        static_cast<int>(options.busy_timeout.count()));
  } catch (const std::exception& e) {
    return Error(e, op);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(db)));
  LIFELINE_RETURN_IF_ERROR(store->Init());
  return store;
}

Status SqliteStore::Init() {
  namespace schema = sqlite_schema;
  const std::string op = "Open(" + options_.path + ")";
  std::lock_guard lock(mu_);
  try {
    SQLite::Database& db = *db_;
    // Everything up to the first write only reads, so a file we refuse is
    // never modified.
    const int32_t app = schema::ApplicationId(db);
    const int version = schema::UserVersion(db);
    const bool empty = schema::IsEmpty(db);
    if (!empty && app != schema::kApplicationId) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", static_cast<uint32_t>(app));
      return FailedPrecondition(
          "store: " + op +
          ": a SQLite database that is not a Lifeline store (application_id " +
          hex + "); refusing to use it");
    }
    if (version > schema::LatestVersion()) {
      return FailedPrecondition(
          "store: " + op + ": schema version " + std::to_string(version) +
          " is newer than this build supports (" +
          std::to_string(schema::LatestVersion()) +
          "); run a newer lifeline or restore a backup made by this version");
    }
    std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") {
      return FailedPrecondition("store: " + op +
                                ": cannot switch to WAL mode (journal_mode " +
                                mode + ")");
    }
    db.exec(options_.sync == Sync::kFull ? "PRAGMA synchronous = FULL"
                                         : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA cache_size = -" + std::to_string(std::max<uint64_t>(
                                          options_.cache_bytes / 1024, 64)));
    db.exec("PRAGMA wal_autocheckpoint = " +
            std::to_string(options_.wal_checkpoint_pages));
    // Keep the WAL file from staying larger than needed after a checkpoint.
    db.exec("PRAGMA journal_size_limit = " +
            std::to_string(int64_t{options_.wal_checkpoint_pages} * 4096 * 2));
    if (options_.max_size_bytes > 0) {
      const int64_t page = db.execAndGet("PRAGMA page_size").getInt64();
      const uint64_t pages = std::max<uint64_t>(
          1, options_.max_size_bytes / static_cast<uint64_t>(page));
      db.exec("PRAGMA max_page_count = " + std::to_string(pages));
    }
    schema::MigrateTo(db, schema::LatestVersion());
    schema_version_ = schema::UserVersion(db);
    SQLite::Statement seq(db,
                          "SELECT last_seq FROM history_state WHERE id = 1");
    if (!seq.executeStep()) {
      return DataLoss("store: " + op +
                      ": the history_state row is missing; the database was "
                      "modified outside Lifeline");
    }
    last_seq_ = static_cast<uint64_t>(seq.getColumn(0).getInt64());
    stmts_ = std::make_unique<Statements>(db);
  } catch (const std::exception& e) {
    return Error(e, op);
  }
  return Status::Ok();
}

Result<std::optional<std::string>> SqliteStore::Get(Namespace ns,
                                                    std::string_view key) {
  std::lock_guard lock(mu_);
  try {
    auto& s = stmts_->get;
    ResetOnExit reset(s);
    s.bind(1, std::string(ToString(ns)));
    s.bind(2, std::string(key));
    if (!s.executeStep()) return std::optional<std::string>();
    return std::optional<std::string>(s.getColumn(0).getString());
  } catch (const std::exception& e) {
    return Error(e, "Get(" + std::string(ToString(ns)) + "/" +
                        std::string(key) + ") from " + options_.path);
  }
}

Result<Store::KeyValues> SqliteStore::List(Namespace ns,
                                           std::string_view prefix) {
  std::lock_guard lock(mu_);
  try {
    std::optional<std::string> end = PrefixEnd(prefix);
    auto& s = end ? stmts_->list_range : stmts_->list_from;
    ResetOnExit reset(s);
    s.bind(1, std::string(ToString(ns)));
    s.bind(2, std::string(prefix));
    if (end) s.bind(3, *end);
    KeyValues out;
    while (s.executeStep()) {
      out.emplace_back(s.getColumn(0).getString(), s.getColumn(1).getString());
    }
    return out;
  } catch (const std::exception& e) {
    return Error(e, "List(" + std::string(ToString(ns)) + "/" +
                        std::string(prefix) + "*) from " + options_.path);
  }
}

Status SqliteStore::Commit(const WriteBatch& batch) {
  LIFELINE_RETURN_IF_ERROR(ValidateBatch(batch));
  if (batch.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& op : batch.ops()) {
      const std::string ns(ToString(op.ns));
      if (op.kind == WriteBatch::OpKind::kPut) {
        auto& s = stmts_->put;
        ResetOnExit reset(s);
        s.bindNoCopy(1, ns);
        s.bindNoCopy(2, op.key);
        s.bindNoCopy(3, op.value);
        s.exec();
      } else {
        auto& s = stmts_->del;
        ResetOnExit reset(s);
        s.bindNoCopy(1, ns);
        s.bindNoCopy(2, op.key);
        s.exec();
      }
    }
    txn.commit();
  } catch (const std::exception& e) {
    return Error(e, DescribeBatch(batch) + " to " + options_.path);
  }
  return Status::Ok();
}

Status SqliteStore::AppendHistory(const std::vector<HistoryEvent>& events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  Result<uint64_t> last = CheckHistorySeqs(events, last_seq_);
  if (!last.ok()) return last.status();
  try {
    SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    auto& s = stmts_->insert_history;
    uint64_t seq = last_seq_;
    std::string evidence;  // reused: one allocation per batch, not per row
    for (const auto& e : events) {
      seq = StoredSeq(e, seq);
      ResetOnExit reset(s);
      sqlite_schema::EncodeEvidenceTo(e.evidence, &evidence);
      s.bind(1, static_cast<int64_t>(seq));
      s.bind(2, ToNanos(e.at));
      s.bindNoCopy(3, ToString(e.kind).data());  // a NUL-terminated literal
      s.bindNoCopy(4, e.type);
      s.bindNoCopy(5, e.group);
      s.bindNoCopy(6, e.zone);
      s.bindNoCopy(7, e.instance);
      s.bindNoCopy(8, e.rule);
      s.bindNoCopy(9, e.message);
      s.bindNoCopy(10, evidence);
      s.exec();
    }
    {
      auto& u = stmts_->set_last_seq;
      ResetOnExit reset(u);
      u.bind(1, static_cast<int64_t>(*last));
      u.exec();
    }
    txn.commit();
  } catch (const std::exception& e) {
    return Error(e, "AppendHistory(" + std::to_string(events.size()) +
                        " events) to " + options_.path);
  }
  last_seq_ = *last;
  return Status::Ok();
}

Result<std::vector<HistoryEvent>> SqliteStore::QueryHistory(
    const HistoryQuery& q) {
  const std::string op = "QueryHistory from " + options_.path;
  std::optional<std::string> type_end;
  if (q.type_prefix) type_end = PrefixEnd(*q.type_prefix);
  // Which filters are present, and which end the limit keeps; each
  // combination has its own statement.
  const unsigned mask =
      (q.instance ? 1u : 0) | (q.group ? 2u : 0) | (q.zone ? 4u : 0) |
      (q.kind ? 8u : 0) | (q.type_prefix ? 16u : 0) | (type_end ? 32u : 0) |
      (q.since ? 64u : 0) | (q.until ? 128u : 0) | (q.oldest_first ? 256u : 0);
  std::lock_guard lock(mu_);
  try {
    auto& slot = stmts_->queries[mask];
    if (!slot) {
      std::string sql = std::string("SELECT ") + kHistoryColumns +
                        " FROM history WHERE seq > ?1";
      if (mask & 1u) sql += " AND instance = ?2";
      if (mask & 2u) sql += " AND grp = ?3";
      if (mask & 4u) sql += " AND zone = ?4";
      if (mask & 8u) sql += " AND kind = ?5";
      if (mask & 16u) sql += " AND type >= ?6";
      if (mask & 32u) sql += " AND type < ?7";
      if (mask & 64u) sql += " AND at_ns >= ?8";
      if (mask & 128u) sql += " AND at_ns <= ?9";
      // Oldest first: the next page after ?1. Otherwise the newest,
      // reversed below.
      sql += (mask & 256u) ? " ORDER BY seq ASC LIMIT ?10"
                           : " ORDER BY seq DESC LIMIT ?10";
      slot = std::make_unique<SQLite::Statement>(*db_, sql);
    }
    SQLite::Statement& s = *slot;
    ResetOnExit reset(s);
    const std::string kind = q.kind ? std::string(ToString(*q.kind)) : "";
    s.bind(1, static_cast<int64_t>(std::min<uint64_t>(
                  q.after_seq, std::numeric_limits<int64_t>::max())));
    if (q.instance) s.bindNoCopy(2, *q.instance);
    if (q.group) s.bindNoCopy(3, *q.group);
    if (q.zone) s.bindNoCopy(4, *q.zone);
    if (q.kind) s.bindNoCopy(5, kind);
    if (q.type_prefix) s.bindNoCopy(6, *q.type_prefix);
    if (type_end) s.bindNoCopy(7, *type_end);
    if (q.since) s.bind(8, ToNanos(*q.since));
    if (q.until) s.bind(9, ToNanos(*q.until));
    s.bind(10, static_cast<int64_t>(std::min<uint64_t>(
                   q.limit, std::numeric_limits<int64_t>::max())));
    std::vector<HistoryEvent> out;
    while (s.executeStep()) {
      HistoryEvent e;
      e.seq = static_cast<uint64_t>(s.getColumn(0).getInt64());
      e.at = FromNanos(s.getColumn(1).getInt64());
      const std::string kind_text = s.getColumn(2).getString();
      auto evidence = sqlite_schema::DecodeEvidence(s.getColumn(9).getString());
      if (!ParseEventKind(kind_text, &e.kind) || !evidence) {
        return DataLoss("store: " + op + ": history row seq " +
                        std::to_string(e.seq) + " is malformed (" +
                        (evidence ? "unknown kind '" + kind_text + "'"
                                  : std::string("bad evidence encoding")) +
                        ")");
      }
      e.type = s.getColumn(3).getString();
      e.group = s.getColumn(4).getString();
      e.zone = s.getColumn(5).getString();
      e.instance = s.getColumn(6).getString();
      e.rule = s.getColumn(7).getString();
      e.message = s.getColumn(8).getString();
      e.evidence = std::move(*evidence);
      out.push_back(std::move(e));
    }
    if (!q.oldest_first) std::reverse(out.begin(), out.end());
    return out;
  } catch (const std::exception& e) {
    return Error(e, op);
  }
}

Result<uint64_t> SqliteStore::LastHistorySeq() {
  std::lock_guard lock(mu_);
  return last_seq_;
}

Status SqliteStore::PruneHistory(const HistoryRetention& retention,
                                 WallTime now) {
  LIFELINE_RETURN_IF_ERROR(ValidateRetention(retention));
  if (!retention.max_count && !retention.max_age) return Status::Ok();
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction txn(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    if (retention.max_count) {
      auto& s = stmts_->prune_count;
      ResetOnExit reset(s);
      s.bind(1,
             static_cast<int64_t>(std::min<uint64_t>(
                 *retention.max_count, std::numeric_limits<int64_t>::max())));
      s.exec();
    }
    if (retention.max_age) {
      auto& s = stmts_->prune_age;
      ResetOnExit reset(s);
      s.bind(1, ToNanos(now) - retention.max_age->count());
      s.exec();
    }
    txn.commit();
  } catch (const std::exception& e) {
    return Error(e, "PruneHistory in " + options_.path);
  }
  return Status::Ok();
}

Status SqliteStore::Checkpoint() {
  const std::string op = "Checkpoint(" + options_.path + ")";
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement s(*db_, "PRAGMA wal_checkpoint(RESTART)");
    if (s.executeStep() && s.getColumn(0).getInt() != 0) {
      return Unavailable("store: " + op +
                         ": another connection is reading; the WAL was not "
                         "fully copied back");
    }
  } catch (const std::exception& e) {
    return Error(e, op);
  }
  return Status::Ok();
}

Status SqliteStore::CheckIntegrity() {
  const std::string op = "CheckIntegrity(" + options_.path + ")";
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement s(*db_, "PRAGMA integrity_check(10)");
    std::string problems;
    while (s.executeStep()) {
      std::string line = s.getColumn(0).getString();
      if (line == "ok") continue;
      problems += problems.empty() ? line : "; " + line;
    }
    if (!problems.empty()) return DataLoss("store: " + op + ": " + problems);
  } catch (const std::exception& e) {
    return Error(e, op);
  }
  return Status::Ok();
}

}  // namespace lifeline
