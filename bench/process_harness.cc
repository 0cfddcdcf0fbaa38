#include "bench/process_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace lifeline::bench {

int64_t MonoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// ---- Board ------------------------------------------------------------------

Board::Board(std::string socket_path) : path_(std::move(socket_path)) {
  ::unlink(path_.c_str());
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
  if (fd_ < 0 ||
      ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "# board: cannot bind %s: %s\n", path_.c_str(),
                 std::strerror(errno));
  }
  int size = 4 << 20;
  (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  reader_ = std::thread([this] { Read(); });
}

Board::~Board() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  reader_.join();
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void Board::Read() {
  char buf[512];
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    ssize_t n = ::recv(fd_, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n <= 0) continue;
    buf[n] = '\0';
    char name[256];
    int pid = 0;
    long long at = 0;
    if (std::sscanf(buf, "%255s %d %lld", name, &pid, &at) != 3) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      starts_[name] = Start{pid, at};
      ++reports_;
    }
    cv_.notify_all();
  }
}

void Board::Detected(const std::string& name, int64_t at_ns,
                     std::string signals, std::string evidence) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    detections_[name] =
        Detection{at_ns, std::move(signals), std::move(evidence)};
  }
  cv_.notify_all();
}

void Board::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  starts_.clear();
  detections_.clear();
  reports_ = 0;
}

size_t Board::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return starts_.size();
}

uint64_t Board::reports() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reports_;
}

std::vector<std::string> Board::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, s] : starts_) out.push_back(name);
  return out;
}

Board::Start Board::Latest(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = starts_.find(name);
  return it == starts_.end() ? Start{} : it->second;
}

Board::Detection Board::LastDetection(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = detections_.find(name);
  return it == detections_.end() ? Detection{} : it->second;
}

bool Board::WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, limit, pred);
}

// ---- processes
// ----------------------------------------------------------------

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::setpgid(0, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void KillChild(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

std::set<int> MarkedProcesses(const std::string& marker) {
  std::set<int> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::string cmd = ReadFile(base + "/cmdline");
    if (cmd.find(marker) == std::string::npos) continue;
    std::string s = ReadFile(base + "/stat");
    size_t paren = s.rfind(')');
    if (paren != std::string::npos && paren + 2 < s.size() &&
        s[paren + 2] == 'Z') {
      continue;
    }
    pids.insert(pid);
  }
  ::closedir(d);
  return pids;
}

void KillMarked(const std::string& marker) {
  for (int round = 0; round < 5; ++round) {
    std::set<int> pids = MarkedProcesses(marker);
    if (pids.empty()) return;
    for (int pid : pids) ::kill(pid, SIGKILL);
    // Reaped by whoever is their parent (or init); give them a moment.
    struct timespec ts {
      0, 50 * 1000 * 1000
    };
    nanosleep(&ts, nullptr);
  }
}

double CpuSeconds(int pid) {
  std::string s = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = s.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(s.substr(paren + 2));
  std::string field;
  // Fields after the command: state(3) ... utime(14) stime(15).
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long RssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6) * 1024;
    }
  }
  return -1;
}

IdleCost MeasureIdle(int pid, std::chrono::milliseconds window) {
  IdleCost cost;
  double cpu0 = CpuSeconds(pid);
  int64_t t0 = MonoNs();
  std::this_thread::sleep_for(window);
  double cpu1 = CpuSeconds(pid);
  int64_t t1 = MonoNs();
  if (cpu0 < 0 || cpu1 < 0) return cost;
  cost.cpu_percent =
      100.0 * (cpu1 - cpu0) / (static_cast<double>(t1 - t0) / 1e9);
  cost.rss_mib = static_cast<double>(RssBytes(pid)) / (1024.0 * 1024.0);
  return cost;
}

// ---- experiments ------------------------------------------------------------

namespace {

// Waits for a process of `name` other than `old_pid` to report; returns its
// start time or 0.
int64_t AwaitRestart(Board& board, const std::string& name, int old_pid,
                     std::chrono::milliseconds limit) {
  int64_t at = 0;
  board.WaitUntil(
      [&] {
        auto it = board.starts_locked().find(name);
        if (it == board.starts_locked().end() || it->second.pid == old_pid) {
          return false;
        }
        at = it->second.at_ns;
        return true;
      },
      limit);
  return at;
}

// A random instance not failed before in this run: a restarted instance is
// in its grace period for a while, which is not what is being measured.
const std::string& PickVictim(std::mt19937_64& rng,
                              const std::vector<std::string>& names,
                              std::set<std::string>* used) {
  for (int tries = 0; tries < 1000; ++tries) {
    const std::string& name = names[rng() % names.size()];
    if (used->insert(name).second) return name;
  }
  return names[rng() % names.size()];
}

void NoteDetection(Board& board, const std::string& name, int64_t t0,
                   FailureSamples* out) {
  Board::Detection d = board.LastDetection(name);
  if (d.at_ns >= t0) {
    out->detected_ms.push_back(static_cast<double>(d.at_ns - t0) / 1e6);
    ++out->detected_by[d.signals.empty() ? "?" : d.signals];
    out->last_evidence = d.evidence;
  }
}

}  // namespace

FailureSamples KillNine(Board& board, int samples,
                        std::chrono::milliseconds limit,
                        std::chrono::milliseconds gap, uint64_t seed,
                        std::set<std::string>* used) {
  FailureSamples out;
  std::mt19937_64 rng(seed);
  std::vector<std::string> names = board.Names();
  if (names.empty()) return out;
  for (int i = 0; i < samples; ++i) {
    const std::string& name = PickVictim(rng, names, used);
    Board::Start old = board.Latest(name);
    int64_t t0 = MonoNs();
    if (::kill(old.pid, SIGKILL) != 0) continue;
    int64_t at = AwaitRestart(board, name, old.pid, limit);
    if (at == 0) {
      ++out.timeouts;
      continue;
    }
    out.restarted_ms.push_back(static_cast<double>(at - t0) / 1e6);
    // Lifeline records its detection before it decides to restart, so it
    // is on the board by now.
    NoteDetection(board, name, t0, &out);
    std::this_thread::sleep_for(gap);
  }
  return out;
}

FailureSamples StopHang(Board& board, int samples,
                        std::chrono::milliseconds limit, uint64_t seed,
                        std::set<std::string>* used) {
  FailureSamples out;
  std::mt19937_64 rng(seed);
  std::vector<std::string> names = board.Names();
  if (names.empty()) return out;
  for (int i = 0; i < samples; ++i) {
    const std::string& name = PickVictim(rng, names, used);
    Board::Start old = board.Latest(name);
    int64_t t0 = MonoNs();
    if (::kill(old.pid, SIGSTOP) != 0) continue;
    int64_t at = AwaitRestart(board, name, old.pid, limit);
    NoteDetection(board, name, t0, &out);
    if (at == 0) {
      ++out.timeouts;
      // Not handled in time: end the hang so the run goes on (the
      // supervisor then restarts it as after a kill -9).
      ::kill(old.pid, SIGKILL);
      AwaitRestart(board, name, old.pid, std::chrono::seconds(10));
      continue;
    }
    out.restarted_ms.push_back(static_cast<double>(at - t0) / 1e6);
  }
  return out;
}

}  // namespace lifeline::bench
