// lifeline-agent, the real binary (LIFELINE_AGENT_PATH), against a loopback
// UDP socket: every datagram it sends is parsed and its tag verified with
// the key the test wrote. The agent always runs bounded (--count, or
// SIGTERM once the test has seen what it waits for) and is killed if it
// outlives its deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "heartbeat/mac.h"
#include "heartbeat/wire.h"

#ifndef LIFELINE_AGENT_PATH
#error "LIFELINE_AGENT_PATH must name the lifeline-agent binary"
#endif

namespace lifeline {
namespace {

namespace hb = heartbeat;
using std::chrono::duration_cast;

const char kKeyHex[] =
    "5f1e8a2b9c3d7e4f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304a5b6c7";
constexpr uint32_t kKeyId = 9;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One run of the agent. Its environment is exactly `env` plus PATH and
// the sanitizer options, so the test's own LIFELINE_* variables (if any)
// do not leak in. stdout and stderr go to files, read after it exits.
class AgentProcess {
 public:
  AgentProcess(const std::vector<std::string>& args,
               const std::vector<std::string>& env, const std::string& dir) {
    out_path_ = dir + "/agent.out";
    err_path_ = dir + "/agent.err";
    std::vector<std::string> argv_s = {LIFELINE_AGENT_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s = env;
    for (const char* keep :
         {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
      if (const char* v = std::getenv(keep)) {
        env_s.push_back(std::string(keep) + "=" + v);
      }
    }
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc =
        posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << "spawn " << argv[0] << ": " << std::strerror(rc);
    if (rc != 0) pid_ = -1;
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    unlink(out_path_.c_str());
    unlink(err_path_.c_str());
  }

  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // The exit code, or -1 (after SIGKILL) if it has not exited within
  // `limit`, or 128+n if signal n ended it.
  int Wait(Duration limit = std::chrono::seconds(20)) {
    if (pid_ <= 0) return -1;
    // glibc 2.36's <sys/pidfd.h> lacks extern "C"; use the system call.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      int ms = static_cast<int>(
          duration_cast<std::chrono::milliseconds>(limit).count());
      int ready = poll(&p, 1, ms);
      close(pidfd);
      if (ready != 1) {
        ADD_FAILURE() << "lifeline-agent still running after "
                      << FormatDuration(limit) << "; killed. stderr:\n"
                      << err();
        kill(pid_, SIGKILL);
      }
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string out() const { return ReadFile(out_path_); }
  std::string err() const { return ReadFile(err_path_); }

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

// A parsed, verified datagram that owns its bytes.
struct Datagram {
  std::vector<uint8_t> bytes;
  std::unique_ptr<hb::ParsedDatagram> parsed;
  const hb::HeartbeatEntry& entry(size_t i) const { return parsed->entries[i]; }
  size_t entries() const { return parsed->header.entry_count; }
};

class AgentProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/agent_process_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    key_path_ = dir_ + "/hb.key";
    std::ofstream(key_path_) << "# heartbeat key for the test\n"
                             << kKeyHex << "\n";
    ASSERT_EQ(chmod(key_path_.c_str(), 0600), 0);
    auto secret = hb::ParseKeyText(kKeyHex, "test");
    ASSERT_TRUE(secret.ok());
    auto mac = hb::HmacSha256::Create(*secret);
    ASSERT_TRUE(mac.ok());
    mac_ = std::move(mac.value());

    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    int rcvbuf = 1 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    for (const std::string& f : written_) unlink(f.c_str());
    unlink(key_path_.c_str());
    rmdir(dir_.c_str());
  }

  std::unique_ptr<AgentProcess> Start(
      const std::vector<std::string>& args,
      const std::vector<std::string>& env = {}) {
    return std::make_unique<AgentProcess>(args, env, dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    written_.push_back(path);
    return path;
  }

  // The next datagram, parsed and verified (a failure is reported), or
  // nullopt if none arrives within `limit`.
  std::optional<Datagram> Receive(Duration limit = std::chrono::seconds(10)) {
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(
        duration_cast<std::chrono::milliseconds>(limit).count());
    if (poll(&p, 1, ms) != 1) return std::nullopt;
    Datagram d;
    d.bytes.resize(hb::kMaxDatagramBytes + 1);
    ssize_t n = recv(fd_, d.bytes.data(), d.bytes.size(), 0);
    if (n <= 0) return std::nullopt;
    d.bytes.resize(static_cast<size_t>(n));
    d.parsed = std::make_unique<hb::ParsedDatagram>();
    hb::DropReason r = hb::ParseDatagram(d.bytes, d.parsed.get());
    EXPECT_EQ(r, hb::DropReason::kNone) << hb::ToString(r);
    if (r != hb::DropReason::kNone) return std::nullopt;
    EXPECT_TRUE(mac_->Verify(d.parsed->signed_bytes, d.parsed->tag))
        << "tag does not verify with the key file's secret";
    EXPECT_EQ(d.parsed->header.key_id, kKeyId);
    return d;
  }
  // Receives until `done` says so; false if the datagrams stop first.
  template <typename Fn>
  bool ReceiveUntil(Fn done, Duration limit = std::chrono::seconds(20)) {
    RealClock clock;
    MonoTime deadline = clock.Now() + limit;
    for (;;) {
      Duration left = deadline - clock.Now();
      if (left <= Duration::zero()) return false;
      auto d = Receive(left);
      if (!d) return false;
      if (done(*d)) return true;
    }
  }
  // True if a datagram is already queued (the agent has exited: nothing
  // more is in flight on loopback).
  bool AnyQueued() {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }
  std::vector<std::string> Base() {
    return {"--addr",  addr_,      "--key-file",
            key_path_, "--key-id", std::to_string(kKeyId)};
  }
  static std::vector<std::string> Cat(std::vector<std::string> a,
                                      const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  std::string dir_, key_path_, addr_;
  std::vector<std::string> written_;
  std::unique_ptr<hb::HmacSha256> mac_;
  int fd_ = -1;
};

TEST_F(AgentProcessTest, SingleInstanceSendsAuthenticatedHeartbeatsForItsId) {
  auto agent = Start(Cat(Base(), {"--instance-id", "i-0abc123", "--interval",
                                  "10ms", "--count", "3"}));
  ASSERT_EQ(agent->Wait(), 0) << agent->err();
  uint64_t first_seq = 0;
  for (int k = 0; k < 3; ++k) {
    auto d = Receive();
    ASSERT_TRUE(d) << "heartbeat " << k << " missing";
    ASSERT_EQ(d->entries(), 1u);
    const hb::HeartbeatEntry& e = d->entry(0);
    EXPECT_EQ(e.instance_id, "i-0abc123");
    EXPECT_EQ(e.interval_us, 10000u);
    EXPECT_EQ(e.status, hb::AppStatus::kOk);
    if (k == 0) first_seq = e.seq;
    EXPECT_EQ(e.seq, first_seq + static_cast<uint64_t>(k));
  }
  EXPECT_FALSE(AnyQueued()) << "--count 3 sent more than 3 heartbeats";
}

TEST_F(AgentProcessTest, HostAgentSplitsEveryListedInstanceOverDatagrams) {
  std::string list = "# instances on this host\n\n";
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "i-0123456789abcdef%02d", i);
    ids.insert(id);
    list += std::string(id) + "\n";
  }
  list += "   i-padded-with-blanks \r\n";
  ids.insert("i-padded-with-blanks");
  std::string file = Write("instances", list);
  constexpr size_t kMaxDatagram = 300;
  auto agent = Start(Cat(Base(), {"--instances-file", file, "--max-datagram",
                                  std::to_string(kMaxDatagram), "--interval",
                                  "10ms", "--count", "2"}));
  ASSERT_EQ(agent->Wait(), 0) << agent->err();
  // Both rounds' datagrams are queued; a round's entries share its seq.
  std::map<uint64_t, std::multiset<std::string>> rounds;
  std::map<uint64_t, int> datagrams_per_round;
  while (AnyQueued()) {
    auto d = Receive();
    ASSERT_TRUE(d);
    EXPECT_LE(d->bytes.size(), kMaxDatagram);
    uint64_t seq = d->entry(0).seq;
    ++datagrams_per_round[seq];
    for (size_t i = 0; i < d->entries(); ++i) {
      EXPECT_EQ(d->entry(i).seq, seq);
      rounds[seq].insert(std::string(d->entry(i).instance_id));
    }
  }
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& [seq, got] : rounds) {
    EXPECT_EQ(got, std::multiset<std::string>(ids.begin(), ids.end()))
        << "round " << seq << ": every instance exactly once";
    // 41 entries of ~43 bytes under 300 bytes: 6 per datagram, 7 datagrams.
    EXPECT_EQ(datagrams_per_round[seq], 7) << "round " << seq;
  }
}

TEST_F(AgentProcessTest, HealthCommandVerdictsBecomeEachInstancesStatus) {
  // exit 0 = ok, 1 = degraded, anything else = failing; {id} substituted.
  auto agent = Start(
      Cat(Base(),
          {"--instance-id", "good", "--instance-id", "tired", "--instance-id",
           "broken", "--interval", "10ms", "--health-command",
           "case {id} in good) exit 0;; tired) exit 1;; *) exit 2;; esac",
           "--probe-interval", "20ms", "--count", "2000"}));
  std::map<std::string, hb::AppStatus> last;
  bool seen = ReceiveUntil([&](const Datagram& d) {
    for (size_t i = 0; i < d.entries(); ++i) {
      last[std::string(d.entry(i).instance_id)] = d.entry(i).status;
    }
    return last["tired"] == hb::AppStatus::kDegraded &&
           last["broken"] == hb::AppStatus::kFailing;
  });
  EXPECT_TRUE(seen) << "never saw tired=degraded, broken=failing; stderr:\n"
                    << agent->err();
  EXPECT_EQ(last["good"], hb::AppStatus::kOk);
  agent->Signal(SIGTERM);  // handled: the agent stops its loop, exits 0
  EXPECT_EQ(agent->Wait(), 0) << agent->err();
}

TEST_F(AgentProcessTest, HealthCommandsRunWithNoSignalsBlocked) {
  // The agent blocks SIGINT/SIGTERM for its signalfd; a probe inheriting
  // that mask could not be stopped by them. The shell reads its own
  // SigBlk with builtins only (while it forks, a shell blocks everything):
  // exit 1 (degraded) if the mask is empty, 2 (failing) otherwise, so
  // either verdict is visible.
  auto agent = Start(
      Cat(Base(),
          {"--instance-id", "web-1", "--interval", "10ms", "--health-command",
           "while read -r k v; do [ \"$k\" = SigBlk: ] && blk=$v; "
           "done < /proc/$$/status; "
           "case $blk in *[!0]*|'') exit 2;; *) exit 1;; esac",
           "--probe-interval", "20ms", "--count", "2000"}));
  hb::AppStatus status = hb::AppStatus::kOk;
  bool seen = ReceiveUntil([&](const Datagram& d) {
    status = d.entry(0).status;
    return status != hb::AppStatus::kOk;
  });
  EXPECT_TRUE(seen) << agent->err();
  EXPECT_EQ(status, hb::AppStatus::kDegraded)
      << "the health command inherited a blocked signal mask";
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(), 0) << agent->err();
}

TEST_F(AgentProcessTest, RefusesAKeyOnTheCommandLine) {
  for (const char* flag : {"--key", "--secret"}) {
    auto agent =
        Start({"--instance-id", "web-1", "--addr", addr_, flag, kKeyHex});
    EXPECT_EQ(agent->Wait(), 2) << flag;
    std::string err = agent->err();
    EXPECT_NE(err.find("never taken from the command line"), std::string::npos)
        << err;
    EXPECT_NE(err.find("--key-file"), std::string::npos) << err;
  }
  EXPECT_FALSE(AnyQueued());
}

TEST_F(AgentProcessTest, AMissingKeyFileIsNamedInTheError) {
  std::string missing = dir_ + "/no-such.key";
  auto agent = Start({"--instance-id", "web-1", "--addr", addr_, "--key-file",
                      missing, "--count", "1"});
  EXPECT_EQ(agent->Wait(), 2);
  std::string err = agent->err();
  EXPECT_NE(err.find(missing), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
  EXPECT_FALSE(AnyQueued());
}

TEST_F(AgentProcessTest, AWorldReadableKeyFileIsRefusedByName) {
  ASSERT_EQ(chmod(key_path_.c_str(), 0644), 0);
  auto agent = Start(Cat(Base(), {"--instance-id", "web-1", "--count", "1"}));
  EXPECT_EQ(agent->Wait(), 2);
  std::string err = agent->err();
  EXPECT_NE(err.find(key_path_), std::string::npos) << err;
  EXPECT_NE(err.find("readable by others"), std::string::npos) << err;
  EXPECT_NE(err.find("chmod 600"), std::string::npos) << err;
  EXPECT_FALSE(AnyQueued());
}

TEST_F(AgentProcessTest, HelpExitsZeroAndDocumentsTheKeyFileAndVariables) {
  auto agent = Start({"--help"});
  EXPECT_EQ(agent->Wait(), 0);
  std::string out = agent->out();
  for (const char* want :
       {"--key-file", "chmod 600", "never from the command line",
        "LIFELINE_INSTANCE_ID", "LIFELINE_HEARTBEAT_ADDR",
        "LIFELINE_HEARTBEAT_KEY_FILE", "LIFELINE_HEARTBEAT_KEY_ID",
        "LIFELINE_HEARTBEAT_INTERVAL", "LIFELINE_AGENT_INSTANCES_FILE",
        "LIFELINE_AGENT_HEALTH_COMMAND", "LIFELINE_AGENT_HTTP_PROBE",
        "LIFELINE_AGENT_PROBE_INTERVAL", "LIFELINE_AGENT_PROBE_TIMEOUT",
        "LIFELINE_AGENT_COUNT", "LIFELINE_AGENT_MAX_DATAGRAM",
        "LIFELINE_AGENT_VERBOSE"}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << " in:\n" << out;
  }
  // The refused --key/--secret are recognised, not offered.
  EXPECT_EQ(out.find("--secret"), std::string::npos) << out;
}

TEST_F(AgentProcessTest, EveryFlagCanComeFromItsEnvironmentVariable) {
  std::string file = Write("instances", "env-a\nenv-b\nenv-c\nenv-d\n");
  auto agent = Start(
      {}, {"LIFELINE_AGENT_INSTANCES_FILE=" + file,
           "LIFELINE_HEARTBEAT_ADDR=" + addr_,
           "LIFELINE_HEARTBEAT_KEY_FILE=" + key_path_,
           "LIFELINE_HEARTBEAT_KEY_ID=" + std::to_string(kKeyId),
           "LIFELINE_HEARTBEAT_INTERVAL=10ms",
           "LIFELINE_AGENT_MAX_DATAGRAM=128",  // 3 such entries per datagram
           "LIFELINE_AGENT_HEALTH_COMMAND=exit 1",
           "LIFELINE_AGENT_PROBE_INTERVAL=20ms", "LIFELINE_AGENT_VERBOSE=1",
           "LIFELINE_AGENT_COUNT=2000"});
  std::set<std::string> degraded;
  bool seen = ReceiveUntil([&](const Datagram& d) {
    EXPECT_LE(d.bytes.size(), 128u);
    EXPECT_LE(d.entries(), 3u);
    EXPECT_EQ(d.entry(0).interval_us, 10000u);
    for (size_t i = 0; i < d.entries(); ++i) {
      if (d.entry(i).status == hb::AppStatus::kDegraded) {
        degraded.insert(std::string(d.entry(i).instance_id));
      }
    }
    return degraded.size() == 4;
  });
  EXPECT_TRUE(seen) << agent->err();
  agent->Signal(SIGTERM);
  EXPECT_EQ(agent->Wait(), 0) << agent->err();
  // LIFELINE_AGENT_VERBOSE: status changes are logged.
  EXPECT_NE(agent->err().find("env-a: degraded (health command exited 1)"),
            std::string::npos)
      << agent->err();

  // LIFELINE_AGENT_COUNT bounds the run by itself.
  auto counted = Start(
      {}, {"LIFELINE_INSTANCE_ID=env-a", "LIFELINE_HEARTBEAT_ADDR=" + addr_,
           "LIFELINE_HEARTBEAT_KEY_FILE=" + key_path_,
           "LIFELINE_HEARTBEAT_KEY_ID=" + std::to_string(kKeyId),
           "LIFELINE_HEARTBEAT_INTERVAL=10ms", "LIFELINE_AGENT_COUNT=1"});
  EXPECT_EQ(counted->Wait(), 0) << counted->err();

  // The probe variables are read (and checked) too.
  auto bad_timeout = Start(
      {}, {"LIFELINE_INSTANCE_ID=env-a", "LIFELINE_HEARTBEAT_ADDR=" + addr_,
           "LIFELINE_HEARTBEAT_KEY_FILE=" + key_path_,
           "LIFELINE_AGENT_PROBE_TIMEOUT=soon"});
  EXPECT_EQ(bad_timeout->Wait(), 2);
  EXPECT_NE(bad_timeout->err().find("--probe-timeout=soon"), std::string::npos)
      << bad_timeout->err();
  auto bad_url = Start(
      {}, {"LIFELINE_INSTANCE_ID=env-a", "LIFELINE_HEARTBEAT_ADDR=" + addr_,
           "LIFELINE_HEARTBEAT_KEY_FILE=" + key_path_,
           "LIFELINE_AGENT_HTTP_PROBE=ftp://localhost/health"});
  EXPECT_EQ(bad_url->Wait(), 2);
  EXPECT_NE(bad_url->err().find("ftp://localhost/health"), std::string::npos)
      << bad_url->err();
}

}  // namespace
}  // namespace lifeline
