// Clock: the only way Lifeline code reads time.
//
// Now() is monotonic (for deadlines, intervals, detectors); WallNow() is
// calendar time (for history records, expiry times users see). Only
// RealClock reads the operating system's clocks; everything else takes a
// Clock& so that tests run in simulated time.
//
// Thread-safety: RealClock is thread-safe. SimClock may be read from any
// thread but is advanced by the thread that owns the simulation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace lifeline {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

class RealClock final : public Clock {
 public:
  MonoTime Now() const override;
  WallTime WallNow() const override;
};

// Simulated time. Starts at a fixed monotonic origin and a fixed wall time
// (2026-01-01T00:00:00Z unless given) so runs are reproducible.
class SimClock final : public Clock {
 public:
  SimClock();
  explicit SimClock(WallTime wall_origin);

  MonoTime Now() const override {
    return MonoTime(Duration(now_ns_.load(std::memory_order_acquire)));
  }
  WallTime WallNow() const override;

  // Moves time forward (never backward: a smaller value is ignored).
  void AdvanceTo(MonoTime t);
  void Advance(Duration d) { AdvanceTo(Now() + d); }

 private:
  std::atomic<int64_t> now_ns_;
  WallTime wall_origin_;
  int64_t mono_origin_ns_;
};

// Milliseconds as a double, for logs and JSON.
inline double ToMillis(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}
inline double ToSeconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// "2026-01-01T00:00:03.250Z"
std::string FormatWallTime(WallTime t);
// Parses the RFC 3339 UTC form above (fractional seconds optional).
bool ParseWallTime(const std::string& s, WallTime* out);

// "1.5s", "250ms", "3m", "2h"; "1h30m" and "500us" too. Returns false on error.
bool ParseDuration(const std::string& s, Duration* out);
// Shortest readable form: "250ms", "1.5s", "2m30s".
std::string FormatDuration(Duration d);

}  // namespace lifeline
