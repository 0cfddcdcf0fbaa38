#include "providers/process/state_dir.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

namespace lifeline::process {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status FsError(const std::string& op, const std::string& path,
               const std::error_code& ec) {
  return Internal("process: " + op + " " + path + ": " + ec.message());
}

Result<json> ReadJson(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument("process: read " + path + ": not JSON");
  }
  return j;
}

std::string Hex(const std::string& s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

Status StateDir::Init() {
  for (const char* sub : {"", "instances", "tokens", "snapshots", "data",
                          "volumes", "attach", "logs"}) {
    std::error_code ec;
    fs::create_directories(root_ + "/" + sub, ec);
    if (ec) return FsError("create state dir", root_ + "/" + sub, ec);
  }
  return Status::Ok();
}

std::string StateDir::RecordPath(const std::string& id) const {
  return root_ + "/instances/" + id + ".json";
}
std::string StateDir::DataDir(const std::string& id) const {
  return root_ + "/data/" + id;
}
std::string StateDir::LogDir(const std::string& id) const {
  return root_ + "/logs/" + id;
}
std::string StateDir::AttachDir(const std::string& id) const {
  return root_ + "/attach/" + id;
}
std::string StateDir::VolumeDir(const std::string& volume_id) const {
  return root_ + "/volumes/" + volume_id;
}
std::string StateDir::SnapshotDir(const std::string& snapshot_id) const {
  return root_ + "/snapshots/" + snapshot_id;
}
std::string StateDir::TokenPath(const std::string& token) const {
  return root_ + "/tokens/" + Hex(token) + ".json";
}

Result<uint64_t> StateDir::Next(const std::string& counter) {
  std::string path = root_ + "/counters.json";
  json counters = json::object();
  if (auto read = ReadJson(path); read.ok()) {
    counters = *read;
  } else if (read.status().code() != StatusCode::kNotFound) {
    return read.status();
  }
  uint64_t next = counters.value(counter, uint64_t{1});
  counters[counter] = next + 1;
  LIFELINE_RETURN_IF_ERROR(WriteFileAtomically(path, counters.dump() + "\n"));
  return next;
}

Status StateDir::SaveRecord(const InstanceRecord& record) {
  return WriteFileAtomically(RecordPath(record.id), EncodeRecord(record));
}

Status StateDir::RemoveRecord(const std::string& id) {
  std::error_code ec;
  fs::remove(RecordPath(id), ec);
  if (ec) return FsError("remove record", RecordPath(id), ec);
  return Status::Ok();
}

std::vector<InstanceRecord> StateDir::LoadRecords(
    std::vector<Status>* errors) const {
  std::vector<InstanceRecord> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "/instances", ec)) {
    if (entry.path().extension() != ".json") continue;  // skips *.tmp
    std::string path = entry.path().string();
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      errors->push_back(text.status());
      continue;
    }
    auto record = DecodeRecord(*text, path);
    if (!record.ok()) {
      errors->push_back(record.status());
      continue;
    }
    records.push_back(std::move(*record));
  }
  if (ec) errors->push_back(FsError("list", root_ + "/instances", ec));
  return records;
}

std::optional<TokenEntry> StateDir::FindToken(const std::string& token) const {
  auto j = ReadJson(TokenPath(token));
  if (!j.ok() || !j->is_object()) return std::nullopt;
  TokenEntry entry;
  entry.instance_id = j->value("instance_id", "");
  entry.launch_hash = j->value("launch_hash", uint64_t{0});
  return entry;
}

Status StateDir::SaveToken(const std::string& token, const TokenEntry& entry) {
  json j = {{"token", token},
            {"instance_id", entry.instance_id},
            {"launch_hash", entry.launch_hash}};
  return WriteFileAtomically(TokenPath(token), j.dump() + "\n");
}

Status StateDir::RemoveToken(const std::string& token) {
  std::error_code ec;
  fs::remove(TokenPath(token), ec);
  if (ec) return FsError("remove token", TokenPath(token), ec);
  return Status::Ok();
}

Result<std::map<std::string, VolumeRecord>> StateDir::LoadVolumes() const {
  std::map<std::string, VolumeRecord> volumes;
  auto j = ReadJson(root_ + "/volumes.json");
  if (!j.ok()) {
    if (j.status().code() == StatusCode::kNotFound) return volumes;
    return j.status();
  }
  for (const auto& [id, v] : j->items()) {
    VolumeRecord r;
    r.id = id;
    r.device = v.value("device", "");
    r.instance_id = v.value("instance_id", "");
    r.detachable = v.value("detachable", false);
    volumes[id] = r;
  }
  return volumes;
}

Status StateDir::SaveVolumes(const std::map<std::string, VolumeRecord>& vols) {
  json j = json::object();
  for (const auto& [id, v] : vols) {
    j[id] = {{"device", v.device},
             {"instance_id", v.instance_id},
             {"detachable", v.detachable}};
  }
  return WriteFileAtomically(root_ + "/volumes.json", j.dump(2) + "\n");
}

Result<std::map<std::string, std::string>> StateDir::LoadAddresses() const {
  auto j = ReadJson(root_ + "/addresses.json");
  if (!j.ok()) {
    if (j.status().code() == StatusCode::kNotFound) {
      return std::map<std::string, std::string>{};
    }
    return j.status();
  }
  return j->get<std::map<std::string, std::string>>();
}

Status StateDir::SaveAddresses(
    const std::map<std::string, std::string>& addresses) {
  return WriteFileAtomically(root_ + "/addresses.json",
                             json(addresses).dump(2) + "\n");
}

Status StateDir::SaveSnapshot(const SnapshotRecord& s) {
  json j = {{"id", s.id},
            {"volume_id", s.volume_id},
            {"device", s.device},
            {"source_instance", s.source_instance},
            {"complete", s.complete}};
  return WriteFileAtomically(root_ + "/snapshots/" + s.id + ".json",
                             j.dump(2) + "\n");
}

Result<SnapshotRecord> StateDir::LoadSnapshot(
    const std::string& snapshot_id) const {
  std::string path = root_ + "/snapshots/" + snapshot_id + ".json";
  if (snapshot_id.empty() || snapshot_id.find('/') != std::string::npos) {
    return InvalidArgument("process: snapshot id '" + snapshot_id +
                           "' is not valid");
  }
  auto j = ReadJson(path);
  if (!j.ok()) {
    if (j.status().code() == StatusCode::kNotFound) {
      return NotFound("process: snapshot " + snapshot_id + " does not exist");
    }
    return j.status();
  }
  SnapshotRecord s;
  s.id = j->value("id", "");
  s.volume_id = j->value("volume_id", "");
  s.device = j->value("device", "");
  s.source_instance = j->value("source_instance", "");
  s.complete = j->value("complete", false);
  return s;
}

Status CopyTree(const std::string& from, const std::string& to) {
  std::string tmp = to + ".partial";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::copy(from, tmp,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return FsError("copy " + from + " to", to, ec);
  }
  fs::rename(tmp, to, ec);
  if (ec) return FsError("rename copy to", to, ec);
  return Status::Ok();
}

}  // namespace lifeline::process
