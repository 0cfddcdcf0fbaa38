// The supervisors compared in the process benchmarks, each running N
// copies of bench_process_workload that report to one Board:
//   - Lifeline in-process: the Daemon class lifelined runs (controller,
//     process provider, heartbeat service, SQLite store), without the HTTP
//     API, so that detection is timestamped by a History listener;
//   - lifelined: the real binary (idle cost, B11);
//   - supervisord (autorestart=true, startsecs=0);
//   - monit (set daemon 1, one pidfile check per instance).
// Every runner works in its own directory; Stop() kills the supervisor and
// every workload it left (they carry the board's socket path in argv).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "bench/process_harness.h"

namespace lifeline::bench {

struct RunnerPaths {
  std::string dir;       // scratch directory of this runner
  std::string workload;  // bench_process_workload
  std::string lifelined;
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string name() const = 0;
  // Starts the supervisor with `n` instances and waits (at most `limit`)
  // until every instance has reported and the supervisor is settled.
  // False (with a "# ..." line on stderr) when it did not get there.
  virtual bool Start(int n, std::chrono::seconds limit) = 0;
  // The supervising process, for idle CPU and RSS.
  virtual int pid() const = 0;
  virtual void Stop() = 0;
};

// heartbeat_interval: what instances are told (B6 uses 100 ms, B11 1 s).
std::unique_ptr<Runner> MakeLifelineInProcess(
    Board& board, RunnerPaths paths,
    std::chrono::milliseconds heartbeat_interval);
std::unique_ptr<Runner> MakeLifelined(
    Board& board, RunnerPaths paths,
    std::chrono::milliseconds heartbeat_interval);
std::unique_ptr<Runner> MakeSupervisord(Board& board, RunnerPaths paths);
std::unique_ptr<Runner> MakeMonit(Board& board, RunnerPaths paths);

// The Lifeline config both Lifeline runners use: one group "bench" of n
// workloads across three zones, heartbeats at `interval` on `hb_port`,
// instance and application ladders that restart (reboot) the process.
std::string LifelineConfig(const RunnerPaths& paths, const std::string& socket,
                           int n, std::chrono::milliseconds interval,
                           int hb_port, int api_port);

// A free local port (TCP when tcp, else UDP), found by binding port 0.
int FreePort(bool tcp);

}  // namespace lifeline::bench
