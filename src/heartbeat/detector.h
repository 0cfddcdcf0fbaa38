// FailureDetector: an adaptive, loss-aware accrual failure detector for
// many instances, driven entirely by the times it is given.
//
// Per instance it learns, from sequence numbers and arrival times, the
// heartbeat interval, the arrival jitter, the loss rate and the mean length
// of loss runs. Silence is scored as phi = -log10 P(this many consecutive
// heartbeats lost | the instance is alive), taking the larger of an
// independent-loss model and a bursty one (the rate of runs of two or more
// losses, with geometric run lengths fitted to those runs only, so that
// single losses do not hide the tail of long bursts). It also never fails
// an instance sooner than two heartbeats past its longest recent burst.
//
// A new instance's prior is its group's record: per group, each detector
// (so each shard) pools the same loss statistics over every heartbeat of
// the group's instances, and an instance's estimates are its own evidence
// plus the group's, the group's share fading as the instance's own history
// grows (weight (1 - 1/loss_window)^steps, exactly as the fixed prior fades for
// an instance alone). A young instance of a group that has shown as many
// clean heartbeats as one instance needs to be trusted (~18 k at the
// defaults) is failed after two missed heartbeats; one of a lossy or
// bursty group is as cautious as that group requires; a group's first
// instance starts from the fixed prior (loss_prior, burst_prior), and so
// does an instance whose interval is neither stated in its heartbeats nor
// yet learned from 64 of them (a fast threshold on a wrong interval would
// fail it between two heartbeats).
//
// An instance becomes suspect when phi reaches phi_suspect and failed when
// it reaches phi_failed (never before two heartbeats are missed); a
// heartbeat brings it back (recovered). See docs/heartbeat-protocol.md.
//
// It is the single-threaded core used by HeartbeatService's shards and,
// directly, by simulations: feed Heartbeat()/Observe() with arrival times
// and call AdvanceTo(now) regularly; transitions and load reports are
// appended to a DetectorOutput. Nothing here reads a clock.
//
// Self-stall awareness (B8): if AdvanceTo is not called for longer than
// stall_threshold, the gap is taken as the detector's own stall: silence
// during it does not count, so deadlines that fall in or after it are
// extended by its length instead of declaring failures.
//
// Thread-safety: none; one owner (HeartbeatService wraps shards in locks).
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "heartbeat/id_table.h"
#include "heartbeat/timing_wheel.h"
#include "heartbeat/wire.h"
#include "model/model.h"

namespace lifeline::heartbeat {

struct DetectorConfig {
  // Interval assumed until a heartbeat says otherwise (entries carry the
  // sender's interval) or arrivals teach it.
  Duration expected_interval = std::chrono::milliseconds(100);
  double phi_suspect = 5;
  double phi_failed = 11;
  // Silence allowed before the first heartbeat, unless Track() says.
  Duration default_grace = std::chrono::seconds(30);
  // Lateness always tolerated on top of the learned jitter.
  Duration min_margin = std::chrono::milliseconds(10);
  double jitter_margin_factor = 5;  // times the mean absolute deviation
  double loss_prior = 0.02;         // assumed loss rate of a new instance
  double loss_floor = 1e-6;         // never assume a loss rate below this
  // Assumed mean length - 1 of a loss burst until bursts are seen (2: a
  // burst goes on with probability 1/2). Above 1 keeps new instances from
  // being failed by their first long burst. loss_prior and burst_prior are
  // where a group's pooled statistics start (see the file comment).
  double burst_prior = 2;
  double loss_window = 1024;  // heartbeats in the loss average
  // Silence after which an instance is failed whatever phi says.
  Duration max_silence = std::chrono::seconds(10);
  Duration tick = std::chrono::milliseconds(1);
  // An AdvanceTo gap longer than this is the detector's own stall. 0: off.
  Duration stall_threshold = std::chrono::milliseconds(50);
  // Each instance's load signals are reported at most this often (the
  // worst error ratio and latency seen since the previous report).
  Duration load_report_interval = std::chrono::seconds(10);
};

// Liveness as the detector sees it (apart from what the app reports).
enum class Liveness : uint8_t { kFree, kUnknown, kAlive, kSuspect, kFailed };
std::string_view ToString(Liveness l);

// What the detector hands to its owner.
struct DetectorOutput {
  std::vector<AppHealthTransition> transitions;
  std::vector<LoadReport> loads;
  bool empty() const { return transitions.empty() && loads.empty(); }
  void clear() {
    transitions.clear();
    loads.clear();
  }
};

// Per-entry outcome counters, filled by the batch Observe paths.
struct EntryCounts {
  uint64_t accepted = 0;
  uint64_t dropped[kDropReasonCount] = {};
};

// One instance's fitted loss model, as -log10 probabilities.
struct LossModel {
  double lp = 0;   // one heartbeat lost
  double lp2 = 0;  // a run of >= 2 losses starts here
  double lq = 0;   // such a run goes on one more heartbeat; 0 if none seen
};

class FailureDetector {
 public:
  static constexpr uint32_t kNone = IdTable::kNone;

  FailureDetector(const DetectorConfig& config, MonoTime start);

  // Starts tracking; the instance must send within `grace` (zero: the
  // configured default) or it is declared failed. InvalidArgument for a bad
  // id or a grace of 24 days or more; AlreadyExists if tracked (its group
  // is updated).
  Status Track(std::string_view id, uint16_t group, MonoTime now,
               Duration grace = Duration::zero());
  // NotFound if not tracked. No transition is emitted.
  Status Untrack(std::string_view id);

  uint32_t Find(std::string_view id) const { return ids_.Find(id); }
  std::string_view IdOf(uint32_t index) const { return ids_.IdOf(index); }

  // Hot path: an authenticated entry for a tracked index, arrived at `now`
  // under a key of group `key_group`. Returns kNone (accepted), kReplayed
  // or kWrongGroup; refused entries change nothing.
  DropReason Observe(uint32_t index, const HeartbeatEntry& e,
                     uint16_t key_group, MonoTime now, DetectorOutput* out);
  // Batch hot path: looks up and observes entries[k] under key group
  // key_groups[k] for every k in `order`, staging the lookups so that the
  // memory accesses of neighbouring entries overlap (at a million
  // instances each entry costs several cache misses). Unknown ids count as
  // kUnknownInstance.
  void ObserveBatch(std::span<const HeartbeatEntry> entries,
                    std::span<const uint16_t> key_groups,
                    std::span<const uint32_t> order, MonoTime now,
                    DetectorOutput* out, EntryCounts* counts);
  // Simulation convenience: by id, key group = the tracked one; `interval`
  // is the entry's stated interval (zero: not stated).
  DropReason Heartbeat(std::string_view id, uint64_t seq, MonoTime now,
                       DetectorOutput* out, AppStatus status = AppStatus::kOk,
                       Duration interval = Duration::zero());

  // Fires every deadline up to `now` and emits due load reports.
  void AdvanceTo(MonoTime now, DetectorOutput* out);

  // Introspection (tests, metrics).
  size_t tracked() const { return ids_.size(); }
  Liveness liveness(std::string_view id) const;
  AppHealth health(std::string_view id) const;
  // Current suspicion of a tracked instance at `now`.
  double Phi(std::string_view id, MonoTime now) const;
  uint64_t stalls_detected() const { return stalls_detected_; }
  // Bytes of every per-instance structure (record, wheel, id table).
  size_t MemoryBytes() const;
  void Reserve(size_t n);

 private:
  // 64 bytes per instance (62 used); see docs/heartbeat-protocol.md.
  // loss and loss2 hold the instance's own evidence only (from 0), run2
  // its own bursts' average (from burst_prior); the prior comes from its
  // group's GroupStats, weighted by `steps` (EstimatesOf).
  struct Record {
    int64_t last_arrival_ns = 0;  // since the detector origin
    uint64_t last_seq = 0;
    float step_ns = 0;        // learned interval per sequence step
    float dev_ns = 0;         // mean absolute deviation from the schedule
    float loss = 0;           // average loss probability per heartbeat
    float loss2 = 0;          // average rate of loss runs of >= 2 heartbeats
    float run2 = 1;           // average (length - 1) of those runs
    float max_run = 0;        // slowly decaying longest recent loss run
    uint32_t latency_us = 0;  // worst since the last load report
    uint16_t error_bp = 0;    // worst since the last load report
    uint16_t group = 0;
    uint16_t n_suspect = 0;  // missed heartbeats that make it suspect
    uint16_t n_failed = 0;   // ... and failed
    uint32_t grace_ms = 0;   // allowed silence before the first heartbeat
    Liveness liveness = Liveness::kFree;
    AppStatus app = AppStatus::kOk;
    uint8_t published = 0;  // AppHealth last reported to the owner
    uint8_t flags = 0;
    uint16_t steps = 0;  // sequence steps since tracking, saturating
  };
  // One group's loss statistics pooled over its instances' heartbeats (the
  // same averages as a Record's, over the group's sequence steps), started
  // at the configured prior.
  struct GroupStats {
    float loss = 0;
    float loss2 = 0;
    float run2 = 1;
  };
  // A record's effective averages: own evidence plus the group's prior.
  struct Estimates {
    double loss = 0, loss2 = 0, run2 = 1;
  };
  static_assert(sizeof(Record) <= 64, "detector record must fit 64 bytes");
  static constexpr uint8_t kHasSeq = 1, kLoadPending = 2, kHasInterval = 4;

  MonoTime TimeOf(int64_t ns) const { return origin_ + Duration(ns); }
  int64_t NsOf(MonoTime t) const { return (t - origin_).count(); }
  void UpdateEstimates(Record& r, uint64_t seq, int64_t now_ns);
  void RefreshThresholds(Record& r) const;
  Estimates EstimatesOf(const Record& r) const;
  LossModel ModelOf(const Record& r) const;
  Duration Margin(const Record& r) const;
  // Deadline for `missed` heartbeats, extended over our own stalls.
  MonoTime DeadlineFor(const Record& r, uint16_t missed) const;
  MonoTime ExtendOverStalls(MonoTime from, Duration allowed) const;
  Duration StalledWithin(MonoTime from, MonoTime to) const;
  double PhiOf(const Record& r, MonoTime now) const;
  void OnDeadline(uint32_t index, MonoTime now, DetectorOutput* out);
  void Publish(uint32_t index, MonoTime now, double phi, std::string reason,
               DetectorOutput* out);
  void SweepLoads(MonoTime now, Duration elapsed, DetectorOutput* out);

  DetectorConfig config_;
  MonoTime origin_;
  IdTable ids_;
  std::vector<Record> records_;
  std::vector<GroupStats> groups_;  // by group id, grown by Track
  GroupStats prior_;                // the fixed prior from the config
  TimingWheel wheel_;
  MonoTime last_advance_;
  struct Stall {
    MonoTime from, to;
  };
  std::deque<Stall> stalls_;  // recent own stalls, oldest first
  uint64_t stalls_detected_ = 0;
  Duration stall_memory_;  // how long a stall can still matter
  uint32_t load_cursor_ = 0;
  double load_carry_ = 0;
};

}  // namespace lifeline::heartbeat
