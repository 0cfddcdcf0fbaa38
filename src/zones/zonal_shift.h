// ZonalShiftManager: shifting a group's capacity away from one availability
// zone for a bounded time (DESIGN.md, Groups and zones).
//
// A zonal shift says "do not launch into zone Z for group G until T". While
// it is active the controller launches nowhere near Z and treats unhealthy
// instances there as the group's ImpairedZoneBehavior says: IgnoreUnhealthy
// leaves them alone (static stability for a pre-scaled group),
// ReplaceUnhealthy replaces them into the other zones. When the shift ends
// (expired or canceled) the controller rebalances the group gradually.
//
// Rules:
//   - at most one active shift per group;
//   - precedence manual > autoshift > practice run: a manual shift replaces
//     an active autoshift or practice run (which ends as canceled, reason
//     "superseded by ..."); an autoshift replaces a practice run; a shift of
//     lower precedence than the active one is refused (kFailedPrecondition);
//     a second shift of the same source is refused too (kAlreadyExists):
//     update or cancel the active one instead;
//   - expires_in is in (0, 72h];
//   - validation: the zones left must be able to hold the group's desired
//     capacity, bounded by the group's max size and by each zone's capacity
//     (as the optional ZoneCapacityFn reports it). A shift that fails it is
//     refused with kFailedPrecondition naming the numbers, unless the
//     request sets skip_validation.
//
// Every start, update and end is appended to the controller's History
// ("zonal_shift.started", "zonal_shift.updated", "zonal_shift.ended", with
// the shift's id, source, zone, expiry and evidence) and reported to the
// listeners, which is how the daemon persists shifts: it stores
// ZonalShiftToJson(shift) under shift.id on every change and hands the
// stored strings back to Restore() after a restart.
//
// Time: expiry is kept as wall time (what users see) and armed as a timer on
// the controller's EventLoop; nothing else reads a clock.
//
// Thread-safety: none. Call everything on the controller's loop thread (the
// HTTP API posts to the loop). The manager must not outlive the controller;
// its destructor cancels its timers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/controller.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/status.h"

namespace lifeline {

enum class ZonalShiftState { kActive, kExpired, kCanceled };
std::string_view ToString(ZonalShiftState s);
bool ParseZonalShiftState(std::string_view s, ZonalShiftState* out);

// Who started a shift. kManual outranks kAutoshift, which outranks
// kPracticeRun.
enum class ZonalShiftSource { kManual, kAutoshift, kPracticeRun };
std::string_view ToString(ZonalShiftSource s);
bool ParseZonalShiftSource(std::string_view s, ZonalShiftSource* out);
// Higher value = higher precedence.
int Precedence(ZonalShiftSource s);

inline constexpr Duration kMaxZonalShiftDuration = std::chrono::hours(72);

using Evidence = std::vector<std::pair<std::string, std::string>>;

struct ZonalShift {
  std::string id;  // "zs-000001"
  std::string group;
  std::string away_from;  // the zone shifted away from
  ZonalShiftSource source = ZonalShiftSource::kManual;
  ZonalShiftState state = ZonalShiftState::kActive;
  std::string comment;
  std::string started_by;  // actor: "api:alice", "autoshift", "practice"
  WallTime started_at{};
  WallTime expires_at{};
  WallTime ended_at{};  // epoch while active
  std::string ended_by;
  std::string end_reason;  // "expired", "canceled by api:bob: ...", ...
  bool validation_skipped = false;
  // Why it was started (autoshift: the detector's figures).
  Evidence evidence;
  bool operator==(const ZonalShift&) const = default;
};

struct ZonalShiftRequest {
  std::string group;
  std::string away_from;
  Duration expires_in = std::chrono::hours(1);
  std::string comment;
  std::string actor = "api";
  ZonalShiftSource source = ZonalShiftSource::kManual;
  bool skip_validation = false;
  Evidence evidence;
};

// Fields left unset are unchanged. expires_in counts from now.
struct ZonalShiftUpdate {
  std::optional<Duration> expires_in;
  std::optional<std::string> comment;
  std::string actor = "api";
};

struct ZonalShiftFilter {
  std::optional<std::string> group;
  std::optional<ZonalShiftState> state;
  std::optional<ZonalShiftSource> source;
};

// How many instances of `group` the zone can hold in total, or nullopt when
// unknown / unlimited. Called on the loop thread during validation.
using ZoneCapacityFn = std::function<std::optional<int>(
    const std::string& group, const std::string& zone)>;

class ZonalShiftManager {
 public:
  // Called after every change of a shift (started, updated, ended), on the
  // loop thread; must not call back into the manager.
  using Listener = std::function<void(const ZonalShift&)>;

  // `controller` must outlive the manager. `capacity` may be empty.
  explicit ZonalShiftManager(Controller& controller,
                             ZoneCapacityFn capacity = nullptr);
  ~ZonalShiftManager();
  ZonalShiftManager(const ZonalShiftManager&) = delete;
  ZonalShiftManager& operator=(const ZonalShiftManager&) = delete;

  // Starts a shift for one group. Errors: kNotFound (group), kInvalidArgument
  // (zone not one of the group's zones, expires_in out of range),
  // kAlreadyExists / kFailedPrecondition (another active shift, see the
  // precedence rules), kFailedPrecondition (validation).
  Result<ZonalShift> Start(const ZonalShiftRequest& request);
  // The same shift for every group that has request.away_from among its
  // zones (request.group is ignored). All or nothing: if any group refuses,
  // nothing is started and the error names that group.
  Result<std::vector<ZonalShift>> StartForAllGroups(
      const ZonalShiftRequest& request);
  // Extends/shortens an active shift or changes its comment. kNotFound,
  // kFailedPrecondition when it already ended, kInvalidArgument.
  Result<ZonalShift> Update(const std::string& id,
                            const ZonalShiftUpdate& update);
  // Ends an active shift as canceled. kNotFound, kFailedPrecondition when it
  // already ended.
  Result<ZonalShift> Cancel(const std::string& id, const std::string& actor,
                            const std::string& reason = "");

  // Newest first. Ended shifts are kept (the newest `kKeepEnded`).
  std::vector<ZonalShift> List(const ZonalShiftFilter& filter = {}) const;
  Result<ZonalShift> Get(const std::string& id) const;
  // The group's active shift, or nullptr.
  const ZonalShift* ActiveShift(const std::string& group) const;

  // The validation Start runs: OK, or kFailedPrecondition with the reason
  // ("shift web away from sim-1a refused: the other zones can hold 8 of 12
  // instances (max size 8)").
  Status Validate(const std::string& group, const std::string& zone) const;

  void AddListener(Listener listener);

  // Restores shifts persisted as ZonalShiftToJson strings after a restart,
  // once the groups are applied to the controller (before or after
  // Controller::Start). Active shifts whose expiry has passed end as
  // expired; the others are applied to the controller again. Of two active
  // shifts for one group the one of higher precedence (then the newer)
  // stays.
  // kInvalidArgument naming the first bad entry; entries before it are kept.
  Status Restore(const std::vector<std::string>& json_shifts);

  static constexpr size_t kKeepEnded = 1000;

 private:
  struct Entry {
    ZonalShift shift;
    EventLoop::TimerId timer = EventLoop::kNoTimer;
  };
  Result<ZonalShift> StartOne(const ZonalShiftRequest& r);
  Status Check(const ZonalShiftRequest& r) const;
  void Activate(Entry& e);
  void End(Entry& e, ZonalShiftState state, const std::string& actor,
           const std::string& reason);
  void ArmExpiry(Entry& e);
  void Announce(const ZonalShift& s, const std::string& type,
                const std::string& message);
  void PruneEnded();
  std::string NextId();

  Controller& controller_;
  EventLoop& loop_;
  ZoneCapacityFn capacity_;
  std::map<std::string, Entry> shifts_;        // by id
  std::map<std::string, std::string> active_;  // group -> id
  std::vector<Listener> listeners_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_;  // guards timer callbacks
};

// JSON form (nlohmann::json text) for persistence and the HTTP API. Parse
// names the field that is wrong.
std::string ZonalShiftToJson(const ZonalShift& shift);
Result<ZonalShift> ParseZonalShiftJson(const std::string& text);

}  // namespace lifeline
