// StateDir: the process provider's durable state, laid out as files under
// one directory (docs/process-provider.md, "State directory"):
//
//   counters.json              next instance / snapshot numbers (never reused)
//   instances/<id>.json        one InstanceRecord per instance
//   tokens/<hex token>.json    idempotency token -> instance id, launch hash
//   volumes.json               extra volumes: device, owner, detachable
//   addresses.json             address -> instance holding it
//   snapshots/<snap>.json      snapshot metadata; snapshots/<snap>/ its files
//   data/<id>/                 an instance's data dir (its root volume)
//   volumes/<vol>/             an extra volume's files
//   attach/<id>/<device>       symlinks to the volumes attached to <id>
//   logs/<id>/stdout.log[.N]   output, rotated
//
// Every file is replaced atomically (write, fsync, rename). Not
// thread-safe: the provider uses it from its loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "providers/process/instance_record.h"

namespace lifeline::process {

struct TokenEntry {
  std::string instance_id;
  uint64_t launch_hash = 0;
};

// An extra volume (one per LaunchSpec::volumes entry); a directory.
struct VolumeRecord {
  std::string id;
  std::string device;       // where it is attached, e.g. "sdf"
  std::string instance_id;  // empty: not attached
  bool detachable = false;
};

struct SnapshotRecord {
  std::string id;
  std::string volume_id;
  std::string device;
  std::string source_instance;
  bool complete = false;
};

class StateDir {
 public:
  explicit StateDir(std::string root) : root_(std::move(root)) {}

  // Creates the directory tree. Internal error naming the path on failure.
  Status Init();

  const std::string& root() const { return root_; }
  std::string RecordPath(const std::string& id) const;
  std::string DataDir(const std::string& id) const;
  std::string LogDir(const std::string& id) const;
  std::string AttachDir(const std::string& id) const;
  std::string VolumeDir(const std::string& volume_id) const;
  std::string SnapshotDir(const std::string& snapshot_id) const;

  // The next value of a named counter, persisted before it is returned, so
  // a number is handed out once per state dir even across crashes.
  Result<uint64_t> Next(const std::string& counter);

  Status SaveRecord(const InstanceRecord& record);
  Status RemoveRecord(const std::string& id);
  // Every readable record; `errors` collects the unreadable ones.
  std::vector<InstanceRecord> LoadRecords(std::vector<Status>* errors) const;

  std::optional<TokenEntry> FindToken(const std::string& token) const;
  Status SaveToken(const std::string& token, const TokenEntry& entry);
  Status RemoveToken(const std::string& token);

  Result<std::map<std::string, VolumeRecord>> LoadVolumes() const;
  Status SaveVolumes(const std::map<std::string, VolumeRecord>& volumes);

  Result<std::map<std::string, std::string>> LoadAddresses() const;
  Status SaveAddresses(const std::map<std::string, std::string>& addresses);

  Status SaveSnapshot(const SnapshotRecord& snapshot);
  // NotFound when there is no such snapshot.
  Result<SnapshotRecord> LoadSnapshot(const std::string& snapshot_id) const;

 private:
  std::string TokenPath(const std::string& token) const;

  std::string root_;
};

// Recursively copies directory `from` into a fresh directory `to` (which
// must not exist) through a temporary name and a rename, so `to` appears
// complete or not at all. Symlinks are copied as symlinks.
Status CopyTree(const std::string& from, const std::string& to);

}  // namespace lifeline::process
