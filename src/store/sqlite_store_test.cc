// SqliteStore behaviour beyond the shared suite: schema migrations, refusal
// of files it must not touch, and how SQLite failures become Status codes.
#include "store/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/sqlite_schema.h"
#include "store/test_util.h"

namespace lifeline {
namespace {

namespace schema = sqlite_schema;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

Result<std::unique_ptr<SqliteStore>> OpenAt(const std::string& path) {
  SqliteStore::Options o;
  o.path = path;
  return SqliteStore::Open(o);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(SqliteStore, CreatesAFreshDatabaseAtTheLatestSchema) {
  testing_util::TempDir dir;
  const std::string path = dir.File("sub/dir/state.db");
  auto s = OpenAt(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->schema_version(), schema::LatestVersion());
  EXPECT_TRUE((*s)->CheckIntegrity().ok());
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(schema::ApplicationId(raw), schema::kApplicationId);
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(SqliteStore, MigratesAVersion1DatabaseKeepingItsData) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  {
    // What a release with schema version 1 would have written.
    SQLite::Database v1(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    schema::MigrateTo(v1, 1);
    ASSERT_EQ(schema::UserVersion(v1), 1);
    v1.exec(
        "INSERT INTO kv VALUES ('groups', 'web', '{\"desired\":3}');"
        "INSERT INTO history VALUES (7, 5000000000, 'decision', "
        "'recovery.started', 'web', 'a', 'i-1', 'ladder', 'restart', "
        "'4:step7:restart');"
        "UPDATE history_state SET last_seq = 7;");
    EXPECT_EQ(v1.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = "
                            "'index' AND name LIKE 'history_%'")
                  .getInt(),
              0);
  }
  auto s = OpenAt(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->schema_version(), 2);
  EXPECT_EQ((*s)->Get(Namespace::kGroups, "web")->value(), R"({"desired":3})");
  HistoryQuery q;
  q.instance = "i-1";
  auto h = (*s)->QueryHistory(q);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].seq, 7u);
  EXPECT_EQ((*h)[0].kind, EventKind::kDecision);
  EXPECT_EQ((*h)[0].at, WallTime(seconds(5)));
  EXPECT_EQ(
      (*h)[0].evidence,
      (std::vector<std::pair<std::string, std::string>>{{"step", "restart"}}));
  EXPECT_EQ(*(*s)->LastHistorySeq(), 7u);
  s->reset();
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(schema::UserVersion(raw), 2);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = "
                           "'index' AND name LIKE 'history_%'")
                .getInt(),
            5);
}

TEST(SqliteStore, MigrationsAreOrderedAndEndAtTheLatest) {
  int prev = 0;
  for (const auto& m : schema::Migrations()) {
    EXPECT_EQ(m.version, prev + 1) << m.what;
    prev = m.version;
  }
  EXPECT_EQ(prev, schema::LatestVersion());
}

TEST(SqliteStore, RefusesADatabaseWithANewerSchemaAndLeavesItAlone) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  {
    auto s = OpenAt(path);
    ASSERT_TRUE(s.ok());
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 99");
  }
  const std::string before = ReadFile(path);
  auto s = OpenAt(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.status().message(), path)) << s.status().message();
  EXPECT_TRUE(Contains(s.status().message(),
                       "schema version 99 is newer than this build supports"))
      << s.status().message();
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteStore, RefusesAFileThatIsNotSqliteWithoutOverwritingIt) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  std::string junk;
  for (int i = 0; i < 8192; ++i) junk.push_back(static_cast<char>(i * 37));
  WriteFile(path, junk);
  auto s = OpenAt(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s.status().message(), "store: Open(" + path + ")"))
      << s.status().message();
  EXPECT_TRUE(Contains(s.status().message(), "not a database"))
      << s.status().message();
  EXPECT_EQ(ReadFile(path), junk);
}

TEST(SqliteStore, ReportsADamagedDatabaseAsDataLoss) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  {
    auto s = OpenAt(path);
    ASSERT_TRUE(s.ok());
    WriteBatch b;
    for (int i = 0; i < 200; ++i) {
      b.Put(Namespace::kInstances, "i-" + std::to_string(i),
            std::string(200, 'x'));
    }
    ASSERT_TRUE((*s)->Commit(b).ok());
  }  // closing checkpoints the WAL into the main file
  std::string bytes = ReadFile(path);
  ASSERT_GT(bytes.size(), 4096u * 3);
  // Keep the 100-byte header valid; scribble over the rest of page 1 (the
  // schema) and page 2.
  for (size_t i = 100; i < 4096 * 2; ++i) bytes[i] = static_cast<char>(0xA5);
  WriteFile(path, bytes);
  auto s = OpenAt(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), path)) << s.status().message();
  EXPECT_EQ(ReadFile(path), bytes);
}

TEST(SqliteStore, RefusesAnotherProgramsSqliteDatabase) {
  testing_util::TempDir dir;
  const std::string path = dir.File("other.db");
  {
    SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  }
  const std::string before = ReadFile(path);
  auto s = OpenAt(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.status().message(), "not a Lifeline store"))
      << s.status().message();
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteStore, ALockedDatabaseIsUnavailableAndTheBatchIsNotApplied) {
  testing_util::TempDir dir;
  SqliteStore::Options o;
  o.path = dir.File("state.db");
  o.busy_timeout = milliseconds(0);
  auto s = SqliteStore::Open(o);
  ASSERT_TRUE(s.ok());
  SqliteStore& store = **s;
  {
    SQLite::Database other(o.path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");  // another writer holds the lock
    WriteBatch b;
    b.Put(Namespace::kGroups, "a", "1")
        .Put(Namespace::kGroups, "b", "2")
        .Put(Namespace::kGroups, "c", "3");
    Status st = store.Commit(b);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable);
    EXPECT_TRUE(st.retryable());
    EXPECT_EQ(st.message(),
              "store: Commit(3 writes) to " + o.path + ": database is locked");
    HistoryEvent e;
    e.type = "t";
    EXPECT_EQ(store.AppendHistory({e}).code(), StatusCode::kUnavailable);
    other.exec("ROLLBACK");
  }
  EXPECT_FALSE(store.Get(Namespace::kGroups, "a")->has_value());
  EXPECT_EQ(*store.LastHistorySeq(), 0u);
  // Once the lock is released the same calls succeed and seqs are not
  // skipped.
  ASSERT_TRUE(
      store.Commit(WriteBatch().Put(Namespace::kGroups, "a", "1")).ok());
  HistoryEvent e;
  e.type = "t";
  ASSERT_TRUE(store.AppendHistory({e}).ok());
  EXPECT_EQ(*store.LastHistorySeq(), 1u);
}

TEST(SqliteStore, ABatchThatFillsTheSizeCapIsRolledBackMidway) {
  testing_util::TempDir dir;
  SqliteStore::Options o;
  o.path = dir.File("state.db");
  o.max_size_bytes = 256 * 1024;
  auto s = SqliteStore::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  SqliteStore& store = **s;
  ASSERT_TRUE(store.Commit(WriteBatch().Put(Namespace::kMeta, "k", "v")).ok());
  WriteBatch big;
  big.Delete(Namespace::kMeta, "k");
  for (int i = 0; i < 100; ++i) {
    big.Put(Namespace::kWorkflows, "w" + std::to_string(i),
            std::string(8192, 'x'));
  }
  Status st = store.Commit(big);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "Commit(101 writes) to " + o.path))
      << st.message();
  EXPECT_EQ(store.Get(Namespace::kMeta, "k")->value(), "v");
  EXPECT_TRUE(store.List(Namespace::kWorkflows)->empty());
  EXPECT_TRUE(store.CheckIntegrity().ok());
}

TEST(SqliteStore, CheckpointCopiesTheWalIntoTheDatabaseFile) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  auto s = OpenAt(path);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(
      (*s)->Commit(WriteBatch().Put(Namespace::kGroups, "web", "spec")).ok());
  ASSERT_TRUE((*s)->Checkpoint().ok());
  // A copy of the main file alone (what a backup tool copies) has the data.
  std::filesystem::copy_file(path, dir.File("backup.db"));
  auto backup = OpenAt(dir.File("backup.db"));
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ((*backup)->Get(Namespace::kGroups, "web")->value(), "spec");
}

TEST(SqliteStore, MalformedHistoryRowsAreDataLossNamingTheSeq) {
  testing_util::TempDir dir;
  const std::string path = dir.File("state.db");
  auto s = OpenAt(path);
  ASSERT_TRUE(s.ok());
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(
        "INSERT INTO history VALUES (3, 0, 'bogus', 't', '', '', '', '', '', "
        "'')");
  }
  auto r = (*s)->QueryHistory({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(r.status().message(), "seq 3")) << r.status().message();
}

TEST(SqliteSchema, EvidenceCodecRoundTripsAndRejectsGarbage) {
  std::vector<std::pair<std::string, std::string>> ev = {
      {"a", "1"}, {"", ""}, {std::string("\0:9", 3), "12:x"}};
  const std::string text = schema::EncodeEvidence(ev);
  EXPECT_EQ(schema::DecodeEvidence(text), ev);
  EXPECT_EQ(schema::DecodeEvidence(""),
            (std::vector<std::pair<std::string, std::string>>{}));
  EXPECT_EQ(schema::DecodeEvidence("1:a"), std::nullopt);      // no value
  EXPECT_EQ(schema::DecodeEvidence("5:ab1:c"), std::nullopt);  // too long
  EXPECT_EQ(schema::DecodeEvidence("x:a1:b"), std::nullopt);
  EXPECT_EQ(schema::DecodeEvidence("1a1:b"), std::nullopt);
}

}  // namespace
}  // namespace lifeline
