#include "heartbeat/detector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lifeline::heartbeat {

namespace {

constexpr double kRunWeight = 1.0 / 32;
constexpr double kIntervalWeight = 1.0 / 16;
constexpr double kJitterWeight = 1.0 / 64;
constexpr uint16_t kMaxMissed = 60000;
constexpr uint16_t kMaxSteps = 65535;
// Steps after which a learned (not stated) interval is trusted.
constexpr uint16_t kIntervalLearnSteps = 64;
const Duration kMaxGrace = std::chrono::hours(24 * 24);

AppHealth HealthOf(Liveness l, AppStatus app) {
  switch (l) {
    case Liveness::kFree:
    case Liveness::kUnknown:
      return AppHealth::kUnknown;
    case Liveness::kFailed:
      return AppHealth::kFailed;
    case Liveness::kSuspect:
      return app == AppStatus::kFailing ? AppHealth::kFailed
                                        : AppHealth::kSuspect;
    case Liveness::kAlive:
      break;
  }
  switch (app) {
    case AppStatus::kOk:
      return AppHealth::kOk;
    case AppStatus::kDegraded:
      return AppHealth::kDegraded;
    case AppStatus::kFailing:
      return AppHealth::kFailed;
  }
  return AppHealth::kUnknown;
}

// phi after `n` consecutive missed heartbeats.
double PhiAfter(const LossModel& m, double n) {
  double phi = n * m.lp;
  if (n >= 2 && m.lq > 0) phi = std::min(phi, m.lp2 + (n - 2) * m.lq);
  return phi;
}

// Missed heartbeats after which phi reaches `phi`.
uint16_t MissedFor(double phi, const LossModel& m) {
  double n = std::ceil(phi / m.lp);
  if (m.lq > 0 && n >= 2 && phi > m.lp2) {
    n = std::max(n, 2 + std::ceil((phi - m.lp2) / m.lq));
  }
  return static_cast<uint16_t>(std::clamp(n, 1.0, double{kMaxMissed}));
}

}  // namespace

std::string_view ToString(Liveness l) {
  switch (l) {
    case Liveness::kFree:
      return "free";
    case Liveness::kUnknown:
      return "unknown";
    case Liveness::kAlive:
      return "alive";
    case Liveness::kSuspect:
      return "suspect";
    case Liveness::kFailed:
      return "failed";
  }
  return "invalid";
}

FailureDetector::FailureDetector(const DetectorConfig& config, MonoTime start)
    : config_(config),
      origin_(start),
      wheel_(config.tick, 4096, start),
      last_advance_(start),
      stall_memory_(std::max(config.max_silence, config.default_grace)) {
  prior_.loss = static_cast<float>(config.loss_prior);
  prior_.loss2 = static_cast<float>(config.loss_prior * config.loss_prior);
  prior_.run2 = static_cast<float>(config.burst_prior);
}

void FailureDetector::Reserve(size_t n) {
  ids_.Reserve(n);
  records_.reserve(n);
  wheel_.Resize(n);
}

size_t FailureDetector::MemoryBytes() const {
  return ids_.MemoryBytes() + records_.capacity() * sizeof(Record) +
         groups_.capacity() * sizeof(GroupStats) + wheel_.MemoryBytes();
}

Status FailureDetector::Track(std::string_view id, uint16_t group, MonoTime now,
                              Duration grace) {
  if (!ValidInstanceId(id)) {
    return InvalidArgument("heartbeat detector: Track(" + std::string(id) +
                           "): id must be 1..64 printable bytes");
  }
  if (grace <= Duration::zero()) grace = config_.default_grace;
  if (grace >= kMaxGrace) {
    return InvalidArgument("heartbeat detector: Track(" + std::string(id) +
                           "): grace " + FormatDuration(grace) + " too long");
  }
  if (groups_.size() <= group) groups_.resize(size_t{group} + 1, prior_);
  auto [index, inserted] = ids_.Insert(id);
  if (!inserted) {
    records_[index].group = group;
    return AlreadyExists("heartbeat detector: Track(" + std::string(id) +
                         "): already tracked");
  }
  if (records_.size() < ids_.index_limit()) records_.resize(ids_.index_limit());
  wheel_.Resize(records_.size());
  Record& r = records_[index];
  r = Record{};
  r.liveness = Liveness::kUnknown;
  r.group = group;
  r.last_arrival_ns = NsOf(now);
  r.step_ns = static_cast<float>(config_.expected_interval.count());
  // Own evidence starts empty (run2 at the prior, so that the instance's
  // own bursts pull it from there); the prior is the group's (EstimatesOf).
  r.run2 = static_cast<float>(config_.burst_prior);
  r.grace_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
  r.published = static_cast<uint8_t>(AppHealth::kUnknown);
  RefreshThresholds(r);
  stall_memory_ = std::max(stall_memory_, grace);
  wheel_.Schedule(index, now + grace);
  return Status::Ok();
}

Status FailureDetector::Untrack(std::string_view id) {
  uint32_t index = ids_.Find(id);
  if (index == kNone) {
    return NotFound("heartbeat detector: Untrack(" + std::string(id) +
                    "): not tracked");
  }
  wheel_.Cancel(index);
  records_[index] = Record{};
  ids_.Erase(id);
  return Status::Ok();
}

FailureDetector::Estimates FailureDetector::EstimatesOf(const Record& r) const {
  // The averages are linear in their starting value, so "started at the
  // prior" is own evidence (started at 0) plus the prior times the weight
  // it has left after `steps` sequence steps. Taking the group's current
  // statistics as that prior lets a young instance use what its group has
  // shown, and leaves an old one to its own history.
  const bool knows_interval =
      (r.flags & kHasInterval) || r.steps >= kIntervalLearnSteps;
  const GroupStats& g = knows_interval ? groups_[r.group] : prior_;
  double w = std::pow(1 - 1.0 / config_.loss_window, r.steps);
  Estimates e;
  e.loss = r.loss + w * g.loss;
  e.loss2 = r.loss2 + w * g.loss2;
  // run2 learns from the instance's own bursts, from burst_prior; a young
  // instance of a group with longer bursts takes the group's, fading the
  // same way.
  e.run2 = r.run2 + w * std::max(0.0, static_cast<double>(g.run2) - r.run2);
  return e;
}

LossModel FailureDetector::ModelOf(const Record& r) const {
  double floor = config_.loss_floor;
  Estimates e = EstimatesOf(r);
  LossModel m;
  m.lp = -std::log10(std::max(e.loss, floor));
  m.lp2 = -std::log10(std::max(e.loss2, floor * floor));
  m.lq = e.run2 > 1.001 ? -std::log10(1 - 1 / e.run2) : 0;
  return m;
}

void FailureDetector::RefreshThresholds(Record& r) const {
  LossModel m = ModelOf(r);
  r.n_suspect = MissedFor(config_.phi_suspect, m);
  uint16_t after_burst = static_cast<uint16_t>(
      std::min<double>(std::ceil(r.max_run) + 2, kMaxMissed));
  r.n_failed = std::max<uint16_t>(
      {MissedFor(config_.phi_failed, m), r.n_suspect, after_burst, 2});
}

void FailureDetector::UpdateEstimates(Record& r, uint64_t seq, int64_t now_ns) {
  double dt =
      static_cast<double>(std::max<int64_t>(0, now_ns - r.last_arrival_ns));
  double step = std::max(1.0, static_cast<double>(r.step_ns));
  uint64_t gap = seq - r.last_seq;
  // dt >= 0: rounding by truncation of x + 0.5 (std::round is a libm call
  // on the per-heartbeat path).
  double by_time =
      std::max(1.0, static_cast<double>(static_cast<int64_t>(dt / step + 0.5)));
  // A sequence jump far beyond the elapsed time is a restarted sender, not
  // lost heartbeats.
  double g = static_cast<double>(gap) <= by_time + 1 ? static_cast<double>(gap)
                                                     : by_time;
  double missed = g - 1;
  double a = 1.0 / config_.loss_window;
  double loss = r.loss;
  r.steps =
      static_cast<uint16_t>(std::min<double>(r.steps + g, double{kMaxSteps}));
  // The group pools every step of its instances, except the silence of one
  // that was already failed (a restarted or returning sender, not loss).
  GroupStats& p = groups_[r.group];
  const bool pool = r.liveness != Liveness::kFailed;
  if (missed == 0) {  // the common case: no pow()
    r.loss2 = static_cast<float>(r.loss2 * (1 - a));
    r.max_run = static_cast<float>(r.max_run * (1 - a / 8));
    if (pool) {
      p.loss = static_cast<float>(p.loss * (1 - a));
      p.loss2 = static_cast<float>(p.loss2 * (1 - a));
    }
  } else {
    double kept = std::pow(1 - a, missed);  // (1 - a)^g = kept * (1 - a)
    loss = 1 - (1 - loss) * kept;
    double burst = missed >= 2 ? a : 0;
    r.loss2 = static_cast<float>(r.loss2 * kept * (1 - a) + burst);
    if (missed >= 2)
      r.run2 += static_cast<float>((missed - 1 - r.run2) * kRunWeight);
    r.max_run = static_cast<float>(
        std::max(missed, r.max_run * std::pow(1 - a / 8, g)));
    if (pool) {
      p.loss = static_cast<float>((1 - (1 - p.loss) * kept) * (1 - a));
      p.loss2 = static_cast<float>(p.loss2 * kept * (1 - a) + burst);
      if (missed >= 2)
        p.run2 += static_cast<float>((missed - 1 - p.run2) * kRunWeight);
    }
  }
  r.loss = static_cast<float>(loss * (1 - a));
  if (!(r.flags & kHasInterval)) {
    double per_step = std::clamp(dt / g, step / 2, step * 2);
    step += (per_step - step) * kIntervalWeight;
    r.step_ns = static_cast<float>(step);
  }
  double deviation = std::abs(dt - g * step);
  r.dev_ns += static_cast<float>((deviation - r.dev_ns) * kJitterWeight);
}

Duration FailureDetector::Margin(const Record& r) const {
  Duration learned(
      static_cast<int64_t>(r.dev_ns * config_.jitter_margin_factor));
  return std::max(config_.min_margin, learned);
}

Duration FailureDetector::StalledWithin(MonoTime from, MonoTime to) const {
  Duration total{0};
  for (const Stall& s : stalls_) {
    MonoTime a = std::max(s.from, from), b = std::min(s.to, to);
    if (b > a) total += b - a;
  }
  return total;
}

MonoTime FailureDetector::ExtendOverStalls(MonoTime from,
                                           Duration allowed) const {
  MonoTime d = from + allowed;
  if (stalls_.empty()) return d;    // the common case
  for (const Stall& s : stalls_) {  // oldest first: extensions compound
    if (s.to <= from) continue;
    if (s.from >= d) break;
    d += s.to - std::max(s.from, from);
  }
  return d;
}

MonoTime FailureDetector::DeadlineFor(const Record& r, uint16_t missed) const {
  Duration timeout(
      static_cast<int64_t>(missed * static_cast<double>(r.step_ns)));
  timeout = std::min(timeout + Margin(r), config_.max_silence);
  return ExtendOverStalls(TimeOf(r.last_arrival_ns), timeout);
}

double FailureDetector::PhiOf(const Record& r, MonoTime now) const {
  if (r.liveness != Liveness::kAlive && r.liveness != Liveness::kSuspect &&
      r.liveness != Liveness::kFailed) {
    return 0;
  }
  MonoTime last = TimeOf(r.last_arrival_ns);
  Duration silent = now - last - StalledWithin(last, now) - Margin(r);
  double n = std::floor(static_cast<double>(silent.count()) / r.step_ns);
  if (n <= 0) return 0;
  return PhiAfter(ModelOf(r), n);
}

void FailureDetector::Publish(uint32_t index, MonoTime now, double phi,
                              std::string reason, DetectorOutput* out) {
  Record& r = records_[index];
  AppHealth h = HealthOf(r.liveness, r.app);
  if (static_cast<uint8_t>(h) == r.published) return;
  r.published = static_cast<uint8_t>(h);
  // Heard from, yet failing: the instance says so itself (its agent's
  // health command or probe, or the app through the SDK). That is a signal
  // of its own, not the observer's silence, and counts as such for the
  // governor's agreement rule.
  const bool self_reported =
      r.liveness == Liveness::kAlive && r.app != AppStatus::kOk;
  out->transitions.push_back(AppHealthTransition{
      std::string(ids_.IdOf(index)), h, now, std::move(reason), phi,
      self_reported ? "agent" : "heartbeat"});
}

DropReason FailureDetector::Observe(uint32_t index, const HeartbeatEntry& e,
                                    uint16_t key_group, MonoTime now,
                                    DetectorOutput* out) {
  Record& r = records_[index];
  if (r.group != key_group) return DropReason::kWrongGroup;
  if ((r.flags & kHasSeq) && e.seq <= r.last_seq) return DropReason::kReplayed;
  int64_t now_ns = NsOf(now);
  Liveness before = r.liveness;
  Duration silence = now - TimeOf(r.last_arrival_ns);
  if (r.flags & kHasSeq) {
    UpdateEstimates(r, e.seq, now_ns);
  } else {
    r.flags |= kHasSeq;
  }
  if (e.interval_us != 0) {
    r.step_ns = static_cast<float>(e.interval_us) * 1000.0f;
    r.flags |= kHasInterval;
  }
  r.last_seq = e.seq;
  r.last_arrival_ns = now_ns;
  if (e.has_error_ratio || e.has_latency) {
    if (e.has_error_ratio) r.error_bp = std::max(r.error_bp, e.error_ratio_bp);
    if (e.has_latency) r.latency_us = std::max(r.latency_us, e.latency_us);
    r.flags |= kLoadPending;
  }
  r.liveness = Liveness::kAlive;
  r.app = e.status;
  if (before == Liveness::kUnknown) RefreshThresholds(r);
  if (static_cast<uint8_t>(HealthOf(r.liveness, r.app)) != r.published) {
    std::string reason;
    if (before == Liveness::kUnknown) {
      reason = "first heartbeat";
    } else if (before == Liveness::kSuspect || before == Liveness::kFailed) {
      reason = "recovered: heartbeat after " + FormatDuration(silence) +
               " of silence";
    } else {
      reason = "agent: " + std::string(ToString(e.status));
    }
    if (before != Liveness::kUnknown && e.status != AppStatus::kOk &&
        before != Liveness::kAlive) {
      reason += ", agent: " + std::string(ToString(e.status));
    }
    Publish(index, now, 0, std::move(reason), out);
  }
  MonoTime d = DeadlineFor(r, r.n_suspect);
  if (!wheel_.scheduled(index) || d < wheel_.when(index))
    wheel_.Schedule(index, d);
  return DropReason::kNone;
}

void FailureDetector::ObserveBatch(std::span<const HeartbeatEntry> entries,
                                   std::span<const uint16_t> key_groups,
                                   std::span<const uint32_t> order,
                                   MonoTime now, DetectorOutput* out,
                                   EntryCounts* counts) {
  // Four passes over chunks of entries: hash and prefetch the id slot; probe
  // and prefetch the candidate's id refs, record and wheel link; prefetch
  // its id bytes; then confirm and observe with everything in cache.
  constexpr size_t kChunk = 16;
  uint64_t hash[kChunk];
  uint32_t candidate[kChunk];
  for (size_t base = 0; base < order.size(); base += kChunk) {
    size_t m = std::min(kChunk, order.size() - base);
    for (size_t j = 0; j < m; ++j) {
      hash[j] = IdTable::Hash(entries[order[base + j]].instance_id);
      ids_.PrefetchSlot(hash[j]);
    }
    for (size_t j = 0; j < m; ++j) {
      candidate[j] = ids_.Probe(hash[j]);
      if (candidate[j] == kNone) continue;
      ids_.PrefetchId(candidate[j]);
      __builtin_prefetch(&records_[candidate[j]]);
      wheel_.Prefetch(candidate[j]);
    }
    for (size_t j = 0; j < m; ++j) {
      if (candidate[j] != kNone) ids_.PrefetchIdBytes(candidate[j]);
    }
    for (size_t j = 0; j < m; ++j) {
      uint32_t k = order[base + j];
      const HeartbeatEntry& e = entries[k];
      uint32_t index =
          candidate[j] == kNone ? kNone : ids_.Find(e.instance_id, hash[j]);
      DropReason r = index == kNone
                         ? DropReason::kUnknownInstance
                         : Observe(index, e, key_groups[k], now, out);
      if (r == DropReason::kNone) {
        ++counts->accepted;
      } else {
        ++counts->dropped[static_cast<size_t>(r)];
      }
    }
  }
}

DropReason FailureDetector::Heartbeat(std::string_view id, uint64_t seq,
                                      MonoTime now, DetectorOutput* out,
                                      AppStatus status, Duration interval) {
  uint32_t index = ids_.Find(id);
  if (index == kNone) return DropReason::kUnknownInstance;
  HeartbeatEntry e;
  e.instance_id = id;
  e.seq = seq;
  e.status = status;
  e.interval_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(interval).count());
  return Observe(index, e, records_[index].group, now, out);
}

void FailureDetector::OnDeadline(uint32_t index, MonoTime now,
                                 DetectorOutput* out) {
  Record& r = records_[index];
  char reason[160];
  auto describe = [&](MonoTime at) {
    Duration silent = at - TimeOf(r.last_arrival_ns);
    std::snprintf(
        reason, sizeof reason,
        "no heartbeat for %s (phi %.1f, loss %.2f%%, interval %s)",
        FormatDuration(silent).c_str(), PhiOf(r, at),
        EstimatesOf(r).loss * 100.0,
        FormatDuration(Duration(static_cast<int64_t>(r.step_ns))).c_str());
  };
  switch (r.liveness) {
    case Liveness::kUnknown: {
      MonoTime d = ExtendOverStalls(TimeOf(r.last_arrival_ns),
                                    std::chrono::milliseconds(r.grace_ms));
      if (d > now) {
        wheel_.Schedule(index, d);
        return;
      }
      r.liveness = Liveness::kFailed;
      Publish(index, now, 0,
              "no heartbeat within the grace period of " +
                  FormatDuration(std::chrono::milliseconds(r.grace_ms)),
              out);
      return;
    }
    case Liveness::kAlive: {
      RefreshThresholds(r);
      MonoTime d = DeadlineFor(r, r.n_suspect);
      if (d > now) {
        wheel_.Schedule(index, d);
        return;
      }
      r.liveness = Liveness::kSuspect;
      describe(now);
      Publish(index, now, PhiOf(r, now), reason, out);
      [[fallthrough]];
    }
    case Liveness::kSuspect: {
      MonoTime d = DeadlineFor(r, r.n_failed);
      if (d > now) {
        wheel_.Schedule(index, d);
        return;
      }
      r.liveness = Liveness::kFailed;
      describe(now);
      Publish(index, now, PhiOf(r, now), reason, out);
      return;
    }
    case Liveness::kFailed:
    case Liveness::kFree:
      return;
  }
}

void FailureDetector::SweepLoads(MonoTime now, Duration elapsed,
                                 DetectorOutput* out) {
  uint32_t limit = ids_.index_limit();
  if (limit == 0 || config_.load_report_interval <= Duration::zero()) return;
  load_carry_ += static_cast<double>(limit) * ToSeconds(elapsed) /
                 ToSeconds(config_.load_report_interval);
  uint64_t count = static_cast<uint64_t>(std::min<double>(load_carry_, limit));
  load_carry_ -= static_cast<double>(count);
  if (load_carry_ > limit) load_carry_ = 0;
  for (uint64_t k = 0; k < count; ++k) {
    if (load_cursor_ >= limit) load_cursor_ = 0;
    uint32_t i = load_cursor_++;
    if (i >= records_.size()) continue;
    Record& r = records_[i];
    if (!(r.flags & kLoadPending) || r.liveness == Liveness::kFree) continue;
    out->loads.push_back(LoadReport{std::string(ids_.IdOf(i)),
                                    r.error_bp / 10000.0, r.latency_us / 1000.0,
                                    now});
    r.error_bp = 0;
    r.latency_us = 0;
    r.flags &= static_cast<uint8_t>(~kLoadPending);
  }
}

void FailureDetector::AdvanceTo(MonoTime now, DetectorOutput* out) {
  if (now <= last_advance_) return;
  Duration gap = now - last_advance_;
  if (config_.stall_threshold > Duration::zero() &&
      gap > config_.stall_threshold) {
    stalls_.push_back(Stall{last_advance_, now});
    ++stalls_detected_;
  }
  while (!stalls_.empty() &&
         (stalls_.size() > 256 || stalls_.front().to < now - stall_memory_)) {
    stalls_.pop_front();
  }
  wheel_.Advance(
      now, [&](uint32_t i) { OnDeadline(i, now, out); },
      [&](uint32_t i) { __builtin_prefetch(&records_[i]); });
  SweepLoads(now, gap, out);
  last_advance_ = now;
}

Liveness FailureDetector::liveness(std::string_view id) const {
  uint32_t i = ids_.Find(id);
  return i == kNone ? Liveness::kFree : records_[i].liveness;
}

AppHealth FailureDetector::health(std::string_view id) const {
  uint32_t i = ids_.Find(id);
  return i == kNone ? AppHealth::kUnknown
                    : static_cast<AppHealth>(records_[i].published);
}

double FailureDetector::Phi(std::string_view id, MonoTime now) const {
  uint32_t i = ids_.Find(id);
  return i == kNone ? 0 : PhiOf(records_[i], now);
}

}  // namespace lifeline::heartbeat
