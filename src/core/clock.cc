#include "core/clock.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace lifeline {

MonoTime RealClock::Now() const { return std::chrono::steady_clock::now(); }
WallTime RealClock::WallNow() const { return std::chrono::system_clock::now(); }

namespace {
// Simulated monotonic time starts at one day, so that "time zero" minus a
// small duration is still a valid time point.
constexpr int64_t kSimMonoOrigin = 86400LL * 1000 * 1000 * 1000;
WallTime DefaultWallOrigin() {
  // 2026-01-01T00:00:00Z
  return WallTime(std::chrono::seconds(1767225600));
}
}  // namespace

SimClock::SimClock() : SimClock(DefaultWallOrigin()) {}
SimClock::SimClock(WallTime wall_origin)
    : now_ns_(kSimMonoOrigin),
      wall_origin_(wall_origin),
      mono_origin_ns_(kSimMonoOrigin) {}

WallTime SimClock::WallNow() const {
  auto since = std::chrono::nanoseconds(now_ns_.load() - mono_origin_ns_);
  return wall_origin_ +
         std::chrono::duration_cast<WallTime::duration>(since);
}

void SimClock::AdvanceTo(MonoTime t) {
  int64_t target = t.time_since_epoch().count();
  int64_t cur = now_ns_.load();
  if (target > cur) now_ns_.store(target, std::memory_order_release);
}

std::string FormatWallTime(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                t.time_since_epoch())
                .count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int year, as -O3 format-truncation checks
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, frac);
  return buf;
}

bool ParseWallTime(const std::string& s, WallTime* out) {
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
                  &mi, &sec, &consumed) != 6) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  std::size_t i = static_cast<std::size_t>(consumed);
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100000000;
    std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return false;
  }
  if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z') || i + 1 != s.size()) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  *out = WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(t) + std::chrono::nanoseconds(nanos)));
  return true;
}

bool ParseDuration(const std::string& s, Duration* out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  long double total_ns = 0;
  bool any = false;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
      ++i;
    }
    if (i == start) return false;
    long double value;
    try {
      value = std::stold(s.substr(start, i - start));
    } catch (...) {
      return false;
    }
    std::size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    long double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else if (unit == "d") mult = 86400e9;
    else return false;
    total_ns += value * mult;
    any = true;
  }
  if (!any || total_ns > 9.2e18L) return false;
  *out = Duration(static_cast<int64_t>(std::llround(static_cast<double>(total_ns))));
  return true;
}

std::string FormatDuration(Duration d) {
  char buf[48];
  int64_t ns = d.count();
  const char* sign = "";
  if (ns < 0) {
    sign = "-";
    ns = -ns;
  }
  if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%s%lldns", sign, static_cast<long long>(ns));
  } else if (ns < 1000000) {
    std::snprintf(buf, sizeof buf, "%s%gus", sign, ns / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(buf, sizeof buf, "%s%gms", sign, ns / 1e6);
  } else if (ns < 60LL * 1000000000) {
    std::snprintf(buf, sizeof buf, "%s%gs", sign, ns / 1e9);
  } else if (ns < 3600LL * 1000000000) {
    long long m = ns / (60LL * 1000000000);
    double s = (ns - m * 60LL * 1000000000) / 1e9;
    if (s == 0) std::snprintf(buf, sizeof buf, "%s%lldm", sign, m);
    else std::snprintf(buf, sizeof buf, "%s%lldm%gs", sign, m, s);
  } else {
    long long h = ns / (3600LL * 1000000000);
    long long m = (ns - h * 3600LL * 1000000000) / (60LL * 1000000000);
    if (m == 0) std::snprintf(buf, sizeof buf, "%s%lldh", sign, h);
    else std::snprintf(buf, sizeof buf, "%s%lldh%lldm", sign, h, m);
  }
  return buf;
}

}  // namespace lifeline
