// InstanceRecord: what the process provider persists about one instance so
// that a restarted daemon can find, verify and re-adopt its process.
//
// Records are plain values, encoded as one small JSON document per
// instance. The (pid, start_time) pair identifies the process: a pid alone
// may have been reused by an unrelated process since the record was
// written, a start time (clock ticks after boot, /proc/<pid>/stat field 22)
// cannot match as well.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace lifeline::process {

struct InstanceRecord {
  std::string id;
  std::string group;
  std::string zone;
  std::string token;  // idempotency token it was launched with
  LaunchSpec spec;
  uint64_t spec_hash = 0;  // HashLaunch(group, zone, spec)
  std::string data_dir;
  // What Lifeline asked for last: true after Launch/Start/Reboot/Recover,
  // false after Stop. A running-wanted record without a live process is an
  // instance that died by itself.
  bool want_running = true;
  // False while Launch is still copying snapshots into the volumes; a
  // record found so after a restart is a launch that never finished.
  bool launched = true;
  int pid = 0;              // 0: no process
  uint64_t start_time = 0;  // of pid
  WallTime launch_time{};
  std::string last_exit;  // "exit 0", "signal 9", or why it is not running
  bool operator==(const InstanceRecord&) const = default;
};

std::string EncodeRecord(const InstanceRecord& record);
// InvalidArgument naming `source` (a path) when the text is not a record.
Result<InstanceRecord> DecodeRecord(std::string_view text,
                                    const std::string& source);

// A stable 64-bit hash (FNV-1a over a canonical encoding) of what a launch
// asked for; two launches with one token must agree on it.
uint64_t HashLaunch(const std::string& group, const std::string& zone,
                    const LaunchSpec& spec);

// Writes `content` to a temporary file beside `path`, fsyncs it and renames
// it over `path`: readers see the old or the new file, never a torn one.
Status WriteFileAtomically(const std::string& path, std::string_view content);
// NotFound when the file does not exist.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace lifeline::process
