// Tests that run the real lifelined binary as a child process: starting and
// stopping it, and finding the instance processes it started (marked by an
// argument the test chose). Test-only; LIFELINED_PATH comes from CMake.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace lifeline {

// Starts `lifelined --config config [args...]` with stdout and stderr
// appended to `log`, and `env` set (a null value unsets). Returns the pid,
// or -1.
// Checks pred() every `pace` until it holds (true), until `limit` passes or
// alive() turns false (false). For tests that watch real processes from the
// outside, where there is no event to wait on; the pace only spaces the
// checks, the deadline decides.
template <class Pred, class Alive>
bool PollUntil(Clock& clock, Pred pred, Duration limit, Duration pace,
               Alive alive) {
  const MonoTime deadline = clock.Now() + limit;
  while (!pred()) {
    if (clock.Now() > deadline || !alive()) return false;
    std::this_thread::sleep_for(pace);
  }
  return true;
}

inline pid_t SpawnLifelined(
    const std::string& config, const std::string& log,
    const std::vector<std::pair<std::string, const char*>>& env = {},
    const std::vector<std::string>& args = {}) {
  std::vector<const char*> argv = {"lifelined", "--config", config.c_str()};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (const auto& [name, value] : env) {
      if (value) {
        ::setenv(name.c_str(), value, 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
    ::execv(LIFELINED_PATH, const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  return pid;
}

// Sends `sig` and reaps the daemon; `pid` becomes -1.
inline void StopLifelined(pid_t& pid, int sig) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

// Reaps the daemon if it has exited, without waiting: true once it has,
// with its wait status in `*status` and `pid` set to -1.
inline bool TryReapLifelined(pid_t& pid, int* status) {
  if (pid <= 0) return true;
  if (::waitpid(pid, status, WNOHANG) != pid) return false;
  pid = -1;
  return true;
}

// Pids of live (not zombie, not exiting) processes with `marker` among their
// arguments.
inline std::set<int> MarkedProcesses(const std::string& marker) {
  std::set<int> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    int pid = std::atoi(e.path().filename().c_str());
    if (pid <= 0) continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmd)), {});
    if (text.find(std::string("\0", 1) + marker) == std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string s((std::istreambuf_iterator<char>(stat)), {});
    size_t paren = s.rfind(')');
    if (paren == std::string::npos || paren + 2 >= s.size()) continue;  // gone
    if (s[paren + 2] == 'Z' || s[paren + 2] == 'X') continue;
    pids.insert(pid);
  }
  return pids;
}

}  // namespace lifeline
