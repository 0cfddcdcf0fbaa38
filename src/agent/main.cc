// lifeline-agent: sends authenticated heartbeats for one instance, or for
// many local instances in one datagram (host-agent mode), optionally with
// the verdict of a health command or HTTP probe as the status.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "agent/probe.h"
#include "core/clock.h"
#include "core/real_loop.h"
#include "heartbeat/mac.h"
#include "heartbeat/sender.h"

namespace {

using lifeline::Duration;
namespace hb = lifeline::heartbeat;

constexpr const char* kDescription =
    R"(lifeline-agent: heartbeats for Lifeline's application monitoring.

Sends one authenticated UDP heartbeat per interval for each instance to a
Lifeline receiver. With several instances (repeated --instance-id or
--instances-file) it runs as a host agent: all instances share one datagram
per round. A health command or HTTP probe, if given, decides each instance's
status: command exit 0 = ok, 1 = degraded, other = failing; HTTP 2xx = ok,
429/503 = degraded, other = failing; a timeout is failing. "{id}" in the
command or URL is replaced by the instance id.

The key is read from a file (never from the command line): the secret as
hex, at least 32 hex digits (64 recommended), '#' lines ignored, and the
file must not be readable by others (chmod 600). Every flag below can also
come from the environment variable named next to it, which is how Lifeline
hands a launched instance its identity.

Example:
  lifeline-agent --instance-id i-0abc123 --addr 10.0.0.5:7946 \
      --key-file /etc/lifeline/hb.key --key-id 1 --interval 100ms \
      --health-command 'curl -fsS localhost:8080/healthz >/dev/null')";

struct Flags {
  std::vector<std::string> ids;
  std::string instances_file;
  std::string addr;
  std::string key_file;
  uint32_t key_id = 0;
  std::string interval = "100ms";
  std::string probe_interval = "1s";
  std::string probe_timeout = "1s";
  std::string health_command;
  std::string http_probe;
  uint64_t count = 0;
  size_t max_datagram = 1400;
  bool verbose = false;
};

bool ParseDurationFlag(const std::string& name, const std::string& text,
                       Duration* out) {
  if (!lifeline::ParseDuration(text, out) || *out <= Duration::zero()) {
    std::fprintf(stderr,
                 "lifeline-agent: %s=%s: expected a duration like 100ms\n",
                 name.c_str(), text.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "lifeline-agent"};
  Flags f;
  app.add_option("--instance-id", f.ids,
                 "Instance id(s) to heartbeat for; repeat for host-agent mode")
      ->envname("LIFELINE_INSTANCE_ID");
  app.add_option("--instances-file", f.instances_file,
                 "File with one instance id per line (host-agent mode)")
      ->envname("LIFELINE_AGENT_INSTANCES_FILE");
  app.add_option("--addr", f.addr, "Receiver host:port or [v6]:port")
      ->envname("LIFELINE_HEARTBEAT_ADDR")
      ->required();
  app.add_option("--key-file", f.key_file, "Key file (hex secret, mode 0600)")
      ->envname("LIFELINE_HEARTBEAT_KEY_FILE")
      ->required();
  app.add_option("--key-id", f.key_id, "Key id the receiver knows the key by")
      ->envname("LIFELINE_HEARTBEAT_KEY_ID");
  app.add_option("--interval", f.interval, "Heartbeat interval")
      ->envname("LIFELINE_HEARTBEAT_INTERVAL")
      ->capture_default_str();
  app.add_option("--health-command", f.health_command,
                 "Shell command deciding the status ({id} = instance id)")
      ->envname("LIFELINE_AGENT_HEALTH_COMMAND");
  app.add_option(
         "--http-probe", f.http_probe,
         "http://host:port/path deciding the status ({id} = instance id)")
      ->envname("LIFELINE_AGENT_HTTP_PROBE");
  app.add_option("--probe-interval", f.probe_interval, "How often to probe")
      ->envname("LIFELINE_AGENT_PROBE_INTERVAL")
      ->capture_default_str();
  app.add_option("--probe-timeout", f.probe_timeout, "Probe time limit")
      ->envname("LIFELINE_AGENT_PROBE_TIMEOUT")
      ->capture_default_str();
  app.add_option("--count", f.count, "Stop after this many rounds (0: never)")
      ->envname("LIFELINE_AGENT_COUNT");
  app.add_option("--max-datagram", f.max_datagram,
                 "Largest datagram in bytes (host-agent batching)")
      ->envname("LIFELINE_AGENT_MAX_DATAGRAM")
      ->capture_default_str();
  app.add_flag("-v,--verbose", f.verbose, "Log status changes to stderr")
      ->envname("LIFELINE_AGENT_VERBOSE");
  // Not offered, only recognised, so the refusal says what to do instead
  // (it runs before the check for a missing --key-file): a secret on the
  // command line would show in ps and shell history.
  std::string key_on_argv;
  app.add_option("--key,--secret", key_on_argv)
      ->group("")
      ->check([](const std::string&) -> std::string {
        // Not a ValidationError: CLI11 would drop the (hidden) name.
        throw CLI::ParseError(
            "lifeline-agent: --key/--secret: keys are never taken from the "
            "command line (they would show in ps); write the hex secret to "
            "a file, chmod 600 it and pass --key-file",
            2);
      });
  auto* probes = app.get_option("--health-command");
  probes->excludes(app.get_option("--http-probe"));
  CLI11_PARSE(app, argc, argv);

  if (!f.instances_file.empty()) {
    std::ifstream in(f.instances_file);
    if (!in) {
      std::fprintf(stderr, "lifeline-agent: --instances-file %s: cannot open\n",
                   f.instances_file.c_str());
      return 2;
    }
    for (std::string line; std::getline(in, line);) {
      size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos || line[b] == '#') continue;
      size_t e = line.find_last_not_of(" \t\r");
      f.ids.push_back(line.substr(b, e - b + 1));
    }
  }
  if (f.ids.empty()) {
    std::fprintf(stderr,
                 "lifeline-agent: no instance: give --instance-id, "
                 "--instances-file or LIFELINE_INSTANCE_ID\n");
    return 2;
  }
  for (const auto& id : f.ids) {
    if (!hb::ValidInstanceId(id)) {
      std::fprintf(stderr,
                   "lifeline-agent: instance id '%s': must be 1..64 "
                   "printable characters without spaces\n",
                   id.c_str());
      return 2;
    }
  }
  Duration interval, probe_interval, probe_timeout;
  if (!ParseDurationFlag("--interval", f.interval, &interval) ||
      !ParseDurationFlag("--probe-interval", f.probe_interval,
                         &probe_interval) ||
      !ParseDurationFlag("--probe-timeout", f.probe_timeout, &probe_timeout)) {
    return 2;
  }
  auto secret = hb::ReadKeyFile(f.key_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "lifeline-agent: %s\n",
                 secret.status().message().c_str());
    return 2;
  }

  lifeline::RealClock clock;
  hb::SenderOptions so;
  so.address = f.addr;
  so.key_id = f.key_id;
  so.secret = std::move(secret.value());
  so.interval = interval;
  so.max_datagram_bytes = f.max_datagram;
  auto sender = hb::HeartbeatSender::Create(so, clock);
  if (!sender.ok()) {
    std::fprintf(stderr, "lifeline-agent: %s\n",
                 sender.status().message().c_str());
    return 1;
  }
  lifeline::RealLoop loop(clock);
  if (!loop.init_status().ok()) {
    std::fprintf(stderr, "lifeline-agent: %s\n",
                 loop.init_status().message().c_str());
    return 1;
  }

  // SIGINT / SIGTERM stop the loop.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd >= 0) {
    (void)loop.WatchFd(sfd, EPOLLIN, [&](uint32_t) { loop.Stop(); });
  }

  std::vector<hb::AppStatus> status(f.ids.size(), hb::AppStatus::kOk);
  std::vector<hb::HeartbeatEntry> entries(f.ids.size());
  for (size_t i = 0; i < f.ids.size(); ++i) entries[i].instance_id = f.ids[i];

  lifeline::agent::ProbeConfig pc;
  pc.command = f.health_command;
  pc.http_url = f.http_probe;
  pc.interval = probe_interval;
  pc.timeout = probe_timeout;
  auto prober = std::make_unique<lifeline::agent::HealthProber>(
      loop, pc, f.ids, [&](size_t i, hb::AppStatus s, const std::string& why) {
        if (f.verbose && s != status[i]) {
          std::fprintf(stderr, "lifeline-agent: %s: %s (%s)\n",
                       f.ids[i].c_str(), std::string(hb::ToString(s)).c_str(),
                       why.c_str());
        }
        status[i] = s;
      });
  lifeline::Status ps = prober->Start();
  if (!ps.ok()) {
    std::fprintf(stderr, "%s\n", ps.message().c_str());
    return 2;
  }

  uint64_t rounds = 0;
  lifeline::MonoTime next = clock.Now();
  std::function<void()> beat = [&] {
    for (size_t i = 0; i < entries.size(); ++i) entries[i].status = status[i];
    lifeline::Status s = (*sender)->Send(entries);
    if (!s.ok() && f.verbose)
      std::fprintf(stderr, "lifeline-agent: %s\n", s.message().c_str());
    if (f.count != 0 && ++rounds >= f.count) {
      loop.Stop();
      return;
    }
    // Fixed schedule, no drift; after a stall, resume from now.
    next += interval;
    if (next < clock.Now()) next = clock.Now();
    loop.RunAt(next, beat);
  };
  loop.Post(beat);
  loop.Run();
  prober.reset();
  if (sfd >= 0) close(sfd);
  return 0;
}
