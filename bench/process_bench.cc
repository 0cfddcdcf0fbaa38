// B4, B6 and B11 (../shared/BENCHMARKS.md), side by side: Lifeline,
// supervisord and monit supervise the same workload (copies of
// process-bench-workload) on this machine, one tool at a time.
//
//   B4   kill -9 of an instance -> detected (Lifeline: the controller
//        declares it failed, from the pidfd event), and -> replacement
//        exec'd (every tool: the new process's main() ran, stamped by the
//        workload itself); 100 and 1,000 instances
//   B6   SIGSTOP of an instance -> declared failed (Lifeline: heartbeats at
//        100 ms); supervisord and monit (process checks) get a window of
//        several monit cycles and are reported as not detecting it
//   B11  idle CPU % of one core and RSS of the supervising process with
//        1,000 instances (Lifeline: the Daemon in this process, heartbeats
//        at 1 s; with LIFELINE_BENCH_PROCESS_FULL also the real lifelined)
//
// Environment:
//   LIFELINE_BENCH_PROCESS_SCALE  multiplies sample counts and the idle
//                                 window (default 1: ~3 minutes in all)
//   LIFELINE_BENCH_PROCESS_TOOLS  comma list among lifeline,supervisord,monit
//   LIFELINE_BENCH_PROCESS_SIZES  comma list of instance counts (100,1000)
//   LIFELINE_BENCH_PROCESS_B6_WARMUP  seconds the Lifeline instances run
//                                 before B6 (default 0; the detector's loss
//                                 priors for young instances dominate B6
//                                 until a few minutes of history exist)
//   LIFELINE_BENCH_PROCESS_FULL   also monit at 1,000 instances and the
//                                 real lifelined binary for B11 (~10 min)
//   LIFELINE_BENCH_PROCESS_KEEP   keep the scratch directory
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "bench/process_harness.h"
#include "bench/process_runners.h"
#include "bench/report.h"

namespace lifeline::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct Series {
  std::map<std::string, double> by_tool;  // tool -> value
};

// Lifeline's figure with the best peer as its baseline, then one ratio
// line per peer (peer / Lifeline: how many times faster or smaller).
void ReportSideBySide(const std::string& id, const std::string& metric,
                      const std::string& unit, const Series& s) {
  auto life = s.by_tool.find("lifeline");
  std::optional<double> best;
  for (const auto& [tool, v] : s.by_tool) {
    if (tool == "lifeline") continue;
    Report(id, tool + "_" + metric, v, unit);
    if (!best || v < *best) best = v;
  }
  if (life == s.by_tool.end()) return;
  Report(id, "lifeline_" + metric, life->second, unit, best);
  for (const auto& [tool, v] : s.by_tool) {
    if (tool == "lifeline" || life->second <= 0) continue;
    Report(id, tool + "_over_lifeline_" + metric, v / life->second, "x");
  }
}

struct Options {
  double scale = 1;
  std::vector<std::string> tools;
  std::vector<int> sizes;
  seconds b6_warmup{0};
  bool full = false;
  RunnerPaths paths;
};

int Scaled(const Options& o, int n) {
  return std::max(1, static_cast<int>(n * o.scale + 0.5));
}

std::unique_ptr<Runner> Make(const std::string& tool, Board& board,
                             const RunnerPaths& paths, milliseconds interval) {
  if (tool == "lifeline") return MakeLifelineInProcess(board, paths, interval);
  if (tool == "lifelined") return MakeLifelined(board, paths, interval);
  if (tool == "supervisord") return MakeSupervisord(board, paths);
  if (tool == "monit") return MakeMonit(board, paths);
  return nullptr;
}

void Run(const Options& o) {
  // B4 at each size; B6 at the smallest; B11 at 1,000 (or the largest).
  std::map<std::string, Series> b4, b6, b11;
  std::map<std::string, std::string> notes;
  int b6_size = *std::min_element(o.sizes.begin(), o.sizes.end());
  int b11_size = *std::max_element(o.sizes.begin(), o.sizes.end());
  int run = 0;
  for (int n : o.sizes) {
    for (const std::string& tool : o.tools) {
      RunnerPaths p = o.paths;
      p.dir = o.paths.dir + "/" + tool + "-" + std::to_string(n);
      Board board(o.paths.dir + "/report-" + std::to_string(++run) + ".sock");
      // Heartbeats at 100 ms where B6 is measured, else at 1 s (B11's h).
      milliseconds interval = n == b6_size ? milliseconds(100) : seconds(1);
      if (tool == "monit" && n > 200 && !o.full) {
        // monit starts its programs one per check, serially: ~23 s per 100
        // measured here, so ~4 min for 1,000.
        std::printf(
            "# monit at %d instances: skipped (minutes to start; "
            "LIFELINE_BENCH_PROCESS_FULL=1 runs it)\n",
            n);
        continue;
      }
      auto runner = Make(tool, board, p, interval);
      if (!runner) continue;
      int64_t t0 = MonoNs();
      std::printf("# %s: starting %d instances\n", tool.c_str(), n);
      std::fflush(stdout);
      if (!runner->Start(n, o.full ? seconds(600) : seconds(120))) {
        std::printf("# %s at %d instances: did not start; skipped\n",
                    tool.c_str(), n);
        runner->Stop();
        continue;
      }
      std::string sz = std::to_string(n);
      b4["start_" + sz + "_s"].by_tool[tool] =
          static_cast<double>(MonoNs() - t0) / 1e9;

      // monit restarts once per 1 s cycle at best and supervisord after its
      // 1 s select timeout: fewer samples say as much.
      bool slow = tool == "monit";
      int samples = Scaled(o, slow ? 6 : tool == "supervisord" ? 12 : 40);
      std::set<std::string> used;
      FailureSamples k = KillNine(board, samples, seconds(15),
                                  milliseconds(slow ? 0 : 20), 42 + n, &used);
      if (!k.detected_ms.empty()) {
        Report("B4", tool + "_detected_" + sz + "_p50",
               Percentile(k.detected_ms, 50), "ms");
        Report("B4", tool + "_detected_" + sz + "_p99",
               Percentile(k.detected_ms, 99), "ms");
      }
      b4["restarted_" + sz + "_p50"].by_tool[tool] =
          Percentile(k.restarted_ms, 50);
      b4["restarted_" + sz + "_p99"].by_tool[tool] =
          Percentile(k.restarted_ms, 99);
      b4["restarted_" + sz + "_max"].by_tool[tool] =
          Percentile(k.restarted_ms, 100);
      Report("B4", tool + "_samples_" + sz,
             static_cast<double>(k.restarted_ms.size()), "count");
      if (k.timeouts > 0) {
        Report("B4", tool + "_not_restarted_" + sz, k.timeouts, "count");
      }

      if (n == b6_size) {
        // Peers: a window of five monit cycles per hang is plenty to show
        // they do not notice; Lifeline is given 10 s.
        bool peer = tool != "lifeline";
        if (!peer && o.b6_warmup.count() > 0) {
          std::printf("# B6: letting heartbeat histories build up for %llds\n",
                      static_cast<long long>(o.b6_warmup.count()));
          std::fflush(stdout);
          std::this_thread::sleep_for(o.b6_warmup);
        }
        int hangs = Scaled(o, peer ? 1 : 6);
        FailureSamples h = StopHang(
            board, hangs, peer ? seconds(5) : seconds(10), 7 + n, &used);
        if (peer) {
          Report("B6", tool + "_hangs_handled_within_5s",
                 static_cast<double>(h.restarted_ms.size()), "count");
          notes[tool] += tool + ": " + std::to_string(h.restarted_ms.size()) +
                         " of " + std::to_string(hangs) +
                         " SIGSTOPped instances noticed within 5 s. ";
        } else {
          if (!h.detected_ms.empty()) {
            ReportLatency("B6", "lifeline_declared_failed", h.detected_ms,
                          "ms");
          }
          if (!h.restarted_ms.empty()) {
            ReportLatency("B6", "lifeline_restarted", h.restarted_ms, "ms");
          }
          for (const auto& [signals, count] : h.detected_by) {
            std::printf("# B6 lifeline: %d declared failed by %s\n", count,
                        signals.c_str());
          }
          if (h.timeouts > 0)
            Report("B6", "lifeline_timeouts", h.timeouts, "count");
          std::printf("# B6 lifeline, last evidence: %s\n",
                      h.last_evidence.c_str());
        }
      }

      // Lifeline here is the Daemon inside this process (whose own threads
      // sleep meanwhile): lifelined without its HTTP server.
      if (n == b11_size) {
        std::this_thread::sleep_for(seconds(2));
        IdleCost c =
            MeasureIdle(runner->pid(), milliseconds(Scaled(o, 10) * 1000));
        b11["idle_cpu_" + sz].by_tool[tool] = c.cpu_percent;
        b11["rss_" + sz].by_tool[tool] = c.rss_mib;
      }
      runner->Stop();
    }
    // B11 for the real lifelined binary (API server included), heartbeats
    // at 1 s; another 1,000-instance start, so only in full runs.
    bool want_lifeline =
        std::find(o.tools.begin(), o.tools.end(), "lifeline") != o.tools.end();
    if (n == b11_size && want_lifeline && o.full) {
      RunnerPaths p = o.paths;
      p.dir = o.paths.dir + "/lifelined-" + std::to_string(n);
      Board board(o.paths.dir + "/report-" + std::to_string(++run) + ".sock");
      auto runner = Make("lifelined", board, p, seconds(1));
      if (runner->Start(n, seconds(600))) {
        IdleCost c =
            MeasureIdle(runner->pid(), milliseconds(Scaled(o, 10) * 1000));
        std::string sz = std::to_string(n);
        b11["idle_cpu_" + sz].by_tool["lifelined"] = c.cpu_percent;
        b11["rss_" + sz].by_tool["lifelined"] = c.rss_mib;
      } else {
        std::printf("# lifelined at %d instances: did not start\n", n);
      }
      runner->Stop();
    }
  }
  for (const auto& [metric, s] : b4)
    ReportSideBySide("B4", metric, metric.ends_with("_s") ? "s" : "ms", s);
  for (const auto& [metric, s] : b11) {
    ReportSideBySide("B11", metric, metric.starts_with("rss") ? "MiB" : "%core",
                     s);
  }
  for (const auto& [tool, note] : notes) std::printf("# B6 %s\n", note.c_str());
}

}  // namespace
}  // namespace lifeline::bench

int main() {
  using namespace lifeline::bench;
  Options o;
  o.scale = std::atof(Env("LIFELINE_BENCH_PROCESS_SCALE", "1").c_str());
  if (o.scale <= 0) o.scale = 1;
  o.tools =
      Split(Env("LIFELINE_BENCH_PROCESS_TOOLS", "lifeline,supervisord,monit"));
  for (const auto& s : Split(Env("LIFELINE_BENCH_PROCESS_SIZES", "100,1000"))) {
    o.sizes.push_back(std::atoi(s.c_str()));
  }
  if (o.sizes.empty()) o.sizes = {100, 1000};
  o.full = std::getenv("LIFELINE_BENCH_PROCESS_FULL") != nullptr;
  o.b6_warmup =
      seconds(std::atoi(Env("LIFELINE_BENCH_PROCESS_B6_WARMUP", "0").c_str()));
  o.paths.workload = PROCESS_BENCH_WORKLOAD;
  o.paths.lifelined = PROCESS_BENCH_LIFELINED;
  char tmpl[] = "/tmp/lifeline-bench-process-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  o.paths.dir = tmpl;
  Run(o);
  if (std::getenv("LIFELINE_BENCH_PROCESS_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(o.paths.dir, ec);
  } else {
    std::printf("# scratch kept in %s\n", o.paths.dir.c_str());
  }
  return 0;
}
