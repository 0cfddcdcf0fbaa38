// SqliteStore internals: the versioned schema, its ordered migrations, and
// the row codec for history evidence. Not for use outside src/store (tests
// use it to build databases the way an older release would have).
//
// The schema version lives in SQLite's header field `user_version`; a
// Lifeline database also carries `application_id` = kApplicationId so that
// another program's SQLite file is never mistaken for ours. Migration N
// takes version N-1 to N inside one transaction that also sets
// user_version = N, so a crash mid-migration leaves version N-1 intact.
//
// Functions here throw SQLite::Exception; SqliteStore turns them into Status.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeline::sqlite_schema {

// "LFLN" in ASCII.
inline constexpr int32_t kApplicationId = 0x4C464C4E;

struct Migration {
  int version;            // the version this step produces
  std::string_view what;  // one line, for docs and logs
  std::string_view sql;   // statements run inside the step's transaction
};

// Every migration, in order; Migrations().back().version is the newest
// schema this build knows.
const std::vector<Migration>& Migrations();
int LatestVersion();

// PRAGMA user_version / application_id of an open database.
int UserVersion(SQLite::Database& db);
int32_t ApplicationId(SQLite::Database& db);
// True when the database has no tables, views or indexes at all.
bool IsEmpty(SQLite::Database& db);

// Runs the migrations after the database's current version up to and
// including `target`, one transaction each.
void MigrateTo(SQLite::Database& db, int target);

// Evidence pairs as "<len>:<bytes>" fields, key then value, concatenated:
// exact for any bytes (JSON would reject invalid UTF-8) and readable in the
// sqlite3 shell. Decode returns nullopt when the text is malformed.
std::string EncodeEvidence(
    const std::vector<std::pair<std::string, std::string>>& evidence);
// The same, into *out (cleared first), reusing its capacity.
void EncodeEvidenceTo(
    const std::vector<std::pair<std::string, std::string>>& evidence,
    std::string* out);
std::optional<std::vector<std::pair<std::string, std::string>>> DecodeEvidence(
    std::string_view text);

}  // namespace lifeline::sqlite_schema
