// TokenBucket: a rate budget refilled continuously in (injected) time.
// Not thread-safe; owned by the SafetyGovernor on the controller's thread.
#pragma once

#include <algorithm>

#include "core/clock.h"

namespace lifeline {

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double per_minute, double burst, MonoTime now)
      : per_second_(per_minute / 60.0), burst_(burst), tokens_(burst),
        last_(now) {}

  // Changes the rate and burst, keeping the tokens already earned.
  void Configure(double per_minute, double burst, MonoTime now) {
    Refill(now);
    per_second_ = per_minute / 60.0;
    burst_ = burst;
    tokens_ = std::min(tokens_, burst_);
  }

  bool Available(MonoTime now, double n = 1) {
    Refill(now);
    return tokens_ >= n;
  }
  bool TryTake(MonoTime now, double n = 1) {
    if (!Available(now, n)) return false;
    tokens_ -= n;
    return true;
  }
  // Time until n tokens are available (zero if they are now).
  Duration TimeUntil(MonoTime now, double n = 1) {
    Refill(now);
    if (tokens_ >= n || per_second_ <= 0) return Duration::zero();
    return std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>((n - tokens_) / per_second_));
  }
  double tokens(MonoTime now) {
    Refill(now);
    return tokens_;
  }

 private:
  void Refill(MonoTime now) {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + ToSeconds(now - last_) * per_second_);
      last_ = now;
    }
  }
  double per_second_ = 1;
  double burst_ = 1;
  double tokens_ = 1;
  MonoTime last_{};
};

}  // namespace lifeline
