#include "store/sqlite_schema.h"

#include <charconv>

namespace lifeline::sqlite_schema {

namespace {

// Version 1: the key-value table, the history table and the history
// high-water seq (kept apart from the rows so pruning never lowers it).
constexpr std::string_view kV1 = R"sql(
CREATE TABLE kv (
  ns    TEXT NOT NULL,
  key   TEXT NOT NULL CHECK (key != ''),
  value TEXT NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE TABLE history (
  seq      INTEGER PRIMARY KEY,
  at_ns    INTEGER NOT NULL,
  kind     TEXT NOT NULL,
  type     TEXT NOT NULL,
  grp      TEXT NOT NULL,
  zone     TEXT NOT NULL,
  instance TEXT NOT NULL,
  rule     TEXT NOT NULL,
  message  TEXT NOT NULL,
  evidence TEXT NOT NULL
);
CREATE TABLE history_state (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL
);
INSERT INTO history_state (id, last_seq) VALUES (1, 0);
)sql";

// Version 2: indexes for the history queries. Every index implicitly ends
// with the rowid (seq), so "WHERE instance = ? ORDER BY seq DESC LIMIT n"
// walks one index backwards and stops after n rows.
constexpr std::string_view kV2 = R"sql(
CREATE INDEX history_at ON history (at_ns);
CREATE INDEX history_instance ON history (instance);
CREATE INDEX history_group ON history (grp);
CREATE INDEX history_zone ON history (zone);
CREATE INDEX history_type ON history (type);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "key-value table, history table, history high-water seq", kV1},
      {2, "history indexes on at, instance, group, zone, type", kV2},
  };
  return kAll;
}

int LatestVersion() { return Migrations().back().version; }

int UserVersion(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

int32_t ApplicationId(SQLite::Database& db) {
  return db.execAndGet("PRAGMA application_id").getInt();
}

bool IsEmpty(SQLite::Database& db) {
  return db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
}

void MigrateTo(SQLite::Database& db, int target) {
  for (const Migration& m : Migrations()) {
    if (m.version > target) break;
    if (m.version <= UserVersion(db)) continue;
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Re-read under the write lock: another process may have migrated.
    if (m.version <= UserVersion(db)) continue;
    db.exec(std::string(m.sql));
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    txn.commit();
  }
}

void EncodeEvidenceTo(
    const std::vector<std::pair<std::string, std::string>>& evidence,
    std::string* out) {
  out->clear();
  char len[24];
  auto field = [&](const std::string& f) {
    auto [end, ec] = std::to_chars(len, len + sizeof len, f.size());
    out->append(len, end);
    out->push_back(':');
    out->append(f);
  };
  for (const auto& [k, v] : evidence) {
    field(k);
    field(v);
  }
}

std::string EncodeEvidence(
    const std::vector<std::pair<std::string, std::string>>& evidence) {
  std::string out;
  EncodeEvidenceTo(evidence, &out);
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> DecodeEvidence(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  auto field = [&text](std::string* f) {
    size_t len = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
    if (ec != std::errc() || p == text.data() + text.size() || *p != ':') {
      return false;
    }
    size_t header = static_cast<size_t>(p - text.data()) + 1;
    if (len > text.size() - header) return false;
    *f = std::string(text.substr(header, len));
    text.remove_prefix(header + len);
    return true;
  };
  while (!text.empty()) {
    std::pair<std::string, std::string> kv;
    if (!field(&kv.first) || !field(&kv.second)) return std::nullopt;
    out.push_back(std::move(kv));
  }
  return out;
}

}  // namespace lifeline::sqlite_schema
