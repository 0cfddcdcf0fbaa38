// Shared pieces of the process benchmarks (bench/process_bench.cc): the
// board where workloads report their starts and Lifeline its detections,
// child processes, /proc readings, and the kill / stop experiments that run
// the same way against every supervisor.
//
// Thread-safety: Board is thread-safe (its reader thread and Lifeline's loop
// thread write to it). Everything else is for the benchmark's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace lifeline::bench {

// CLOCK_MONOTONIC in nanoseconds: the clock the workloads stamp their start
// with (steady_clock is CLOCK_MONOTONIC on Linux).
int64_t MonoNs();

// Receives the workloads' start reports on a Unix datagram socket
// (bench/process_workload.cc) and records detections pushed by Lifeline.
class Board {
 public:
  struct Start {
    int pid = 0;
    int64_t at_ns = 0;
  };
  struct Detection {
    int64_t at_ns = 0;
    std::string signals;   // what declared it ("instance_check", "heartbeat")
    std::string evidence;  // the controller's sentence
  };

  // Binds `socket_path` and starts the reader thread.
  explicit Board(std::string socket_path);
  ~Board();
  Board(const Board&) = delete;
  Board& operator=(const Board&) = delete;
  const std::string& socket_path() const { return path_; }

  void Detected(const std::string& name, int64_t at_ns, std::string signals,
                std::string evidence);
  // Forgets everything (between runs of different supervisors).
  void Clear();
  size_t Count() const;
  std::vector<std::string> Names() const;
  Start Latest(const std::string& name) const;
  Detection LastDetection(const std::string& name) const;
  // Blocks until pred() (called under the board's lock) holds or `limit`
  // passes; false on timeout.
  bool WaitUntil(const std::function<bool()>& pred,
                 std::chrono::milliseconds limit);
  // For predicates passed to WaitUntil (the lock is held there).
  const std::map<std::string, Start>& starts_locked() const { return starts_; }
  const std::map<std::string, Detection>& detections_locked() const {
    return detections_;
  }
  uint64_t reports() const;

 private:
  void Read();

  std::string path_;
  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                            // guarded by mu_
  std::map<std::string, Start> starts_;          // guarded by mu_
  std::map<std::string, Detection> detections_;  // guarded by mu_
  uint64_t reports_ = 0;                         // guarded by mu_
};

// fork + exec with stdout/stderr appended to `log`; returns the pid or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log);
// SIGKILL and reap a child started with Spawn (no-op for pid <= 0).
void KillChild(pid_t pid);
// Live (not zombie) processes whose command line contains `marker`.
std::set<int> MarkedProcesses(const std::string& marker);
// SIGKILLs every process carrying `marker` (the workloads of a run).
void KillMarked(const std::string& marker);

// User+system CPU time of a process (and, with children=false, only its own
// threads) in seconds, from /proc/<pid>/stat; -1 if unreadable.
double CpuSeconds(int pid);
// Resident set size in bytes from /proc/<pid>/status (VmRSS); -1 if
// unreadable.
long RssBytes(int pid);

// Idle cost of a supervising daemon over a window.
struct IdleCost {
  double cpu_percent = -1;  // of one core
  double rss_mib = -1;
};
// Samples `pid` for `window` (the caller's thread sleeps meanwhile).
IdleCost MeasureIdle(int pid, std::chrono::milliseconds window);

// Results of the kill -9 / SIGSTOP experiments, in milliseconds.
struct FailureSamples {
  std::vector<double> detected_ms;   // only when the supervisor reports it
  std::vector<double> restarted_ms;  // kill -> replacement's main() ran
  int timeouts = 0;                  // no replacement within the limit
  std::map<std::string, int> detected_by;  // signals -> count
  std::string last_evidence;               // of the last detection
};

// `samples` times: picks an instance at random, kill -9s its process and
// waits (at most `limit`) for a new process of the same name to report.
// Successive victims are spaced by `gap` so one recovery's tail does not
// overlap the next kill. Victims are distinct while there are instances not
// in `used` (which collects them).
FailureSamples KillNine(Board& board, int samples,
                        std::chrono::milliseconds limit,
                        std::chrono::milliseconds gap, uint64_t seed,
                        std::set<std::string>* used);

// SIGSTOPs `samples` instances one after another. For each, waits (at most
// `limit`) for a detection and for a new process of the same name. An
// instance not restarted within `limit` is SIGKILLed (counts as a timeout)
// so the run can continue. Victims as for KillNine.
FailureSamples StopHang(Board& board, int samples,
                        std::chrono::milliseconds limit, uint64_t seed,
                        std::set<std::string>* used);

}  // namespace lifeline::bench
