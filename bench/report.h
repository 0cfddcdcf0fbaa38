// One line per figure, in the form ../shared/BENCHMARKS.md asks for:
//   BENCH <id> <metric> <value> <unit> [baseline=<value>] [ratio=<value>]
// scripts/bench collects these lines into bench/results/latest.json.
#pragma once

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace lifeline::bench {

inline void Report(const std::string& id, const std::string& metric,
                   double value, const std::string& unit,
                   std::optional<double> baseline = std::nullopt) {
  if (baseline && *baseline != 0) {
    std::printf("BENCH %s %s %.6g %s baseline=%.6g ratio=%.4g\n", id.c_str(),
                metric.c_str(), value, unit.c_str(), *baseline,
                value / *baseline);
  } else {
    std::printf("BENCH %s %s %.6g %s\n", id.c_str(), metric.c_str(), value,
                unit.c_str());
  }
  std::fflush(stdout);
}

// Percentile of a sample (sorts a copy; p in [0, 100]).
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(rank);
  size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return v[lo] * (1 - frac) + v[hi] * frac;
}

// Reports p50 / p99 / p99.9 and the sample count of a latency series.
inline void ReportLatency(const std::string& id, const std::string& metric,
                          const std::vector<double>& samples,
                          const std::string& unit) {
  Report(id, metric + "_p50", Percentile(samples, 50), unit);
  Report(id, metric + "_p99", Percentile(samples, 99), unit);
  Report(id, metric + "_p999", Percentile(samples, 99.9), unit);
  Report(id, metric + "_samples", static_cast<double>(samples.size()), "count");
}

// Resident set size of this process, in bytes (from /proc/self/statm).
inline long ResidentBytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
      pages_resident = 0;
    }
    std::fclose(f);
  }
  return pages_resident * 4096;
}

}  // namespace lifeline::bench
