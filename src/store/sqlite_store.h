// SqliteStore: the embedded, default Store — one SQLite database file in
// WAL mode.
//
// Durability: Commit, AppendHistory and PruneHistory each run in one
// transaction (BEGIN IMMEDIATE ... COMMIT). With Sync::kFull (the default)
// SQLite fsyncs the write-ahead log before COMMIT returns, so an
// acknowledged write survives kill -9 of the process *and* an operating
// system crash or power loss (given a disk that honours fsync). Sync::kNormal
// skips that fsync: acknowledged writes still survive kill -9 of the process
// (they are in the OS page cache) but the newest ones may be lost on power
// loss. A transaction that fails is rolled back: nothing of it is applied.
//
// Bad files: a file that is not a SQLite database, or is damaged, gives
// kDataLoss naming the file; a SQLite database of another program, or one
// whose schema is newer than this build, gives kFailedPrecondition. In every
// case the file is left exactly as it was.
//
// Thread-safety: all methods are thread-safe; one connection is shared and
// guarded by a mutex, so calls run one at a time. Several processes may
// open the same file (SQLite locks it), but only one should write.
#pragma once

#include <memory>
#include <mutex>

#include "store/store.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace lifeline {

class SqliteStore final : public Store {
 public:
  enum class Sync { kFull, kNormal };

  struct Options {
    std::string path;  // created (with its parent directory) if missing
    Sync sync = Sync::kFull;
    // How long a call waits for another process's lock before returning
    // kUnavailable ("database is locked").
    milliseconds busy_timeout{5000};
    // SQLite's page cache for this connection. The history indexes are
    // written at random positions; a cache that holds their hot pages
    // saves re-reading them (B13 in docs/store.md).
    uint64_t cache_bytes = 32 << 20;
    // The WAL is copied back into the database file (a checkpoint, with its
    // own fsync) once it holds this many pages. Larger means fewer copies
    // of index pages that every history batch rewrites; the WAL file grows
    // to about this many pages times the page size (4 KiB) between
    // checkpoints.
    int wal_checkpoint_pages = 10000;
    // A cap on the database file's size; a write that would pass it fails
    // with kResourceExhausted and is rolled back. 0 = no cap.
    uint64_t max_size_bytes = 0;
  };

  // Opens (creating or migrating as needed) the database at options.path.
  static Result<std::unique_ptr<SqliteStore>> Open(const Options& options);
  ~SqliteStore() override;

  Result<std::optional<std::string>> Get(Namespace ns,
                                         std::string_view key) override;
  Result<KeyValues> List(Namespace ns, std::string_view prefix = "") override;
  Status Commit(const WriteBatch& batch) override;
  Status AppendHistory(const std::vector<HistoryEvent>& events) override;
  Result<std::vector<HistoryEvent>> QueryHistory(
      const HistoryQuery& q) override;
  Result<uint64_t> LastHistorySeq() override;
  Status PruneHistory(const HistoryRetention& retention, WallTime now) override;

  // Runs SQLite's full integrity check (reads the whole file): OK, or
  // kDataLoss listing the first problems found.
  Status CheckIntegrity();

  // Copies the whole WAL back into the database file and restarts the WAL
  // from its beginning (SQLite's RESTART checkpoint). SQLite also does this
  // by itself every Options::wal_checkpoint_pages; call it before copying
  // the database file for a backup. kUnavailable if a reader blocked it.
  Status Checkpoint();

  const std::string& path() const { return options_.path; }
  // The schema version of the open database (after migrations).
  int schema_version() const { return schema_version_; }

 private:
  struct Statements;

  SqliteStore(Options options, std::unique_ptr<SQLite::Database> db);
  // Everything after the connection is open: checks, pragmas, migrations.
  Status Init();
  // Maps an exception from SQLiteCpp to a Status: "store: <op> <path>: ..."
  static Status Error(const std::exception& e, const std::string& op);

  const Options options_;
  int schema_version_ = 0;
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;  // guarded by mu_
  std::unique_ptr<Statements> stmts_;     // guarded by mu_
  uint64_t last_seq_ = 0;                 // guarded by mu_; committed value
};

}  // namespace lifeline
