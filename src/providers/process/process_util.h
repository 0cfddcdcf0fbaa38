// Linux process primitives used by the process provider: reading
// /proc/<pid>/stat, pidfds, and spawning an instance as a detached process.
//
// Free functions without state; each is safe to call from any thread.
// Failures are Status values naming the pid or command involved.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lifeline::process {

// The fields of /proc/<pid>/stat the provider needs.
struct ProcStat {
  char state = '?';         // field 3: R, S, D, T, t, Z, X, I ...
  int pgrp = 0;             // field 5
  uint64_t start_time = 0;  // field 22: clock ticks after boot
};

// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from the last ')'.
bool ParseProcStat(std::string_view text, ProcStat* out);

// NotFound when no process has that pid.
Result<ProcStat> ReadProcStat(pid_t pid);

// True for a process that is stopped (T, t) or a zombie (Z, X): alive in
// /proc but unable to do any work.
bool IsImpairedState(char state);

// pidfd_open(2) through syscall(2) (glibc before 2.36 has no wrapper).
// Returns a close-on-exec fd; NotFound when the pid does not exist.
Result<int> PidfdOpen(pid_t pid);

// pidfd_send_signal(2). NotFound when the process has already exited.
Status PidfdSignal(int pidfd, int sig);

// True once the process the pidfd refers to has exited (the pidfd polls
// readable); never blocks.
bool PidfdExited(int pidfd);

// True when the pidfd's process is our child, has exited and is not yet
// reaped (its pid, and so its process group id, cannot be reused yet).
bool IsExitedChild(int pidfd);

// Reaps the process behind the pidfd if it is our child and has exited,
// returning "exit 3" / "signal 9". nullopt when it is not our child (an
// adopted process, reaped by init) or was already reaped.
std::optional<std::string> ReapChild(int pidfd);

struct SpawnRequest {
  std::string command;            // looked up in PATH when it has no '/'
  std::vector<std::string> args;  // argv[1..]
  std::vector<std::string> env;   // "KEY=value", the whole environment
  std::string cwd;
  std::string stdout_path;  // opened O_APPEND | O_CREAT
  std::string stderr_path;
};

// Starts the command in a new session (setsid), stdin from /dev/null,
// stdout/stderr appended to the given files, default signal dispositions
// and an empty signal mask, so the process neither depends on nor inherits
// the daemon's terminal or signal state and outlives the daemon.
// InvalidArgument when the command cannot be executed.
Result<pid_t> SpawnDetached(const SpawnRequest& request);

}  // namespace lifeline::process
