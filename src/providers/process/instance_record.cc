#include "providers/process/instance_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lifeline::process {

namespace {

using nlohmann::json;

json SpecToJson(const LaunchSpec& s) {
  json volumes = json::array();
  for (const auto& v : s.volumes) {
    volumes.push_back({{"device", v.device},
                       {"size_gib", v.size_gib},
                       {"detachable", v.detachable},
                       {"snapshot_on_replace", v.snapshot_on_replace}});
  }
  return {{"image", s.image},
          {"instance_type", s.instance_type},
          {"security_groups", s.security_groups},
          {"subnet_by_zone", s.subnet_by_zone},
          {"tags", s.tags},
          {"user_data", s.user_data},
          {"volumes", volumes},
          {"key_name", s.key_name},
          {"command", s.command},
          {"args", s.args},
          {"env", s.env}};
}

LaunchSpec SpecFromJson(const json& j) {
  LaunchSpec s;
  s.image = j.at("image").get<std::string>();
  s.instance_type = j.at("instance_type").get<std::string>();
  s.security_groups = j.at("security_groups").get<std::vector<std::string>>();
  s.subnet_by_zone =
      j.at("subnet_by_zone").get<std::map<std::string, std::string>>();
  s.tags = j.at("tags").get<std::map<std::string, std::string>>();
  s.user_data = j.at("user_data").get<std::string>();
  for (const auto& v : j.at("volumes")) {
    VolumeSpec vs;
    vs.device = v.at("device").get<std::string>();
    vs.size_gib = v.at("size_gib").get<int>();
    vs.detachable = v.at("detachable").get<bool>();
    vs.snapshot_on_replace = v.at("snapshot_on_replace").get<bool>();
    s.volumes.push_back(vs);
  }
  s.key_name = j.at("key_name").get<std::string>();
  s.command = j.at("command").get<std::string>();
  s.args = j.at("args").get<std::vector<std::string>>();
  s.env = j.at("env").get<std::map<std::string, std::string>>();
  return s;
}

}  // namespace

std::string EncodeRecord(const InstanceRecord& r) {
  json j = {{"id", r.id},
            {"group", r.group},
            {"zone", r.zone},
            {"token", r.token},
            {"spec", SpecToJson(r.spec)},
            {"spec_hash", r.spec_hash},
            {"data_dir", r.data_dir},
            {"want_running", r.want_running},
            {"launched", r.launched},
            {"pid", r.pid},
            {"start_time", r.start_time},
            {"launch_time", FormatWallTime(r.launch_time)},
            {"last_exit", r.last_exit}};
  return j.dump(2) + "\n";
}

Result<InstanceRecord> DecodeRecord(std::string_view text,
                                    const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("process: read record " + source + ": not JSON");
  }
  try {
    InstanceRecord r;
    r.id = j.at("id").get<std::string>();
    r.group = j.at("group").get<std::string>();
    r.zone = j.at("zone").get<std::string>();
    r.token = j.at("token").get<std::string>();
    r.spec = SpecFromJson(j.at("spec"));
    r.spec_hash = j.at("spec_hash").get<uint64_t>();
    r.data_dir = j.at("data_dir").get<std::string>();
    r.want_running = j.at("want_running").get<bool>();
    r.launched = j.value("launched", true);
    r.pid = j.at("pid").get<int>();
    r.start_time = j.at("start_time").get<uint64_t>();
    if (!ParseWallTime(j.at("launch_time").get<std::string>(),
                       &r.launch_time)) {
      return InvalidArgument("process: read record " + source +
                             ": bad launch_time");
    }
    r.last_exit = j.at("last_exit").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    return InvalidArgument("process: read record " + source + ": " + e.what());
  }
}

uint64_t HashLaunch(const std::string& group, const std::string& zone,
                    const LaunchSpec& spec) {
  // std::map members make the dump canonical (keys sorted).
  std::string text =
      json{{"group", group}, {"zone", zone}, {"spec", SpecToJson(spec)}}.dump();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  auto fail = [&](const char* step) {
    int err = errno;
    unlink(tmp.c_str());
    return Internal("process: write " + path + ": " + step + ": " +
                    std::strerror(err));
  };
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open");
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    close(fd);
    return fail("fsync");
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("process: read " + path + ": no such file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace lifeline::process
