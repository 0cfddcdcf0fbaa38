#include "providers/process/process_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lifeline::process {

namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Frees posix_spawn's attribute objects on every return path.
class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

}  // namespace

bool ParseProcStat(std::string_view text, ProcStat* out) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) {
    return false;
  }
  // Fields from 3 on, separated by single spaces.
  std::istringstream in(std::string(text.substr(close + 2)));
  std::string field;
  ProcStat stat;
  for (int n = 3; n <= 22; ++n) {
    if (!(in >> field)) return false;
    if (n == 3) {
      if (field.size() != 1) return false;
      stat.state = field[0];
    } else if (n == 5) {
      stat.pgrp = std::atoi(field.c_str());
    } else if (n == 22) {
      char* end = nullptr;
      stat.start_time = std::strtoull(field.c_str(), &end, 10);
      if (end == field.c_str() || *end != '\0') return false;
    }
  }
  *out = stat;
  return true;
}

Result<ProcStat> ReadProcStat(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(path);
  if (!in) return NotFound("process: read " + path + ": no such process");
  std::stringstream text;
  text << in.rdbuf();
  ProcStat stat;
  if (!ParseProcStat(text.str(), &stat)) {
    // The process can vanish between open and read: an empty read.
    if (text.str().empty()) {
      return NotFound("process: read " + path + ": no such process");
    }
    return Internal("process: parse " + path + ": unexpected format");
  }
  return stat;
}

bool IsImpairedState(char state) {
  return state == 'T' || state == 't' || state == 'Z' || state == 'X';
}

Result<int> PidfdOpen(pid_t pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    int err = errno;
    std::string what = "process: pidfd_open(pid " + std::to_string(pid) + "): ";
    if (err == ESRCH) return NotFound(what + "no such process");
    return Internal(what + ErrnoText(err));
  }
  // pidfds are close-on-exec by definition (pidfd_open(2)).
  return static_cast<int>(fd);
}

Status PidfdSignal(int pidfd, int sig) {
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) {
    return Status::Ok();
  }
  int err = errno;
  std::string what =
      "process: pidfd_send_signal(" + std::to_string(sig) + "): ";
  if (err == ESRCH) return NotFound(what + "process has exited");
  return Internal(what + ErrnoText(err));
}

bool PidfdExited(int pidfd) {
  pollfd p{};
  p.fd = pidfd;
  p.events = POLLIN;
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

bool IsExitedChild(int pidfd) {
  siginfo_t info{};
  return waitid(P_PIDFD, static_cast<id_t>(pidfd), &info,
                WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid != 0;
}

std::optional<std::string> ReapChild(int pidfd) {
  siginfo_t info{};
  if (waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) !=
          0 ||
      info.si_pid == 0) {
    return std::nullopt;  // ECHILD: not ours; or still running
  }
  if (info.si_code == CLD_EXITED) {
    return "exit " + std::to_string(info.si_status);
  }
  return "signal " + std::to_string(info.si_status);
}

Result<pid_t> SpawnDetached(const SpawnRequest& request) {
  std::string what = "process: spawn " + request.command + ": ";
  if (request.command.empty()) return InvalidArgument(what + "empty command");
  SpawnAttrs sa;
  int rc = 0;
  auto check = [&rc](int r) {
    if (rc == 0) rc = r;
  };
  check(posix_spawn_file_actions_addopen(sa.actions(), STDIN_FILENO,
                                         "/dev/null", O_RDONLY, 0));
  check(posix_spawn_file_actions_addopen(sa.actions(), STDOUT_FILENO,
                                         request.stdout_path.c_str(),
                                         O_WRONLY | O_APPEND | O_CREAT, 0644));
  check(posix_spawn_file_actions_addopen(sa.actions(), STDERR_FILENO,
                                         request.stderr_path.c_str(),
                                         O_WRONLY | O_APPEND | O_CREAT, 0644));
  if (!request.cwd.empty()) {
    check(posix_spawn_file_actions_addchdir_np(sa.actions(),
                                               request.cwd.c_str()));
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  check(posix_spawnattr_setsigdefault(sa.attr(), &all));
  check(posix_spawnattr_setsigmask(sa.attr(), &none));
  check(posix_spawnattr_setflags(sa.attr(), POSIX_SPAWN_SETSID |
                                                POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETSIGMASK));
  if (rc != 0) return Internal(what + "prepare: " + ErrnoText(rc));

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(request.command.c_str()));
  for (const auto& a : request.args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : request.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  // glibc's posix_spawn reports exec failures (ENOENT, EACCES) here.
  rc = posix_spawnp(&pid, request.command.c_str(), sa.actions(), sa.attr(),
                    argv.data(), envp.data());
  if (rc != 0) return InvalidArgument(what + ErrnoText(rc));
  return pid;
}

}  // namespace lifeline::process
