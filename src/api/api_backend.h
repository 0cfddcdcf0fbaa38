// ApiBackend: what the HTTP API needs from the process that hosts it (the
// daemon, or a test fixture). The daemon implements it (or adapts to it);
// tests build one on a real Controller, a SimProvider and a RealLoop.
//
// Thread-safety: RunOnLoop, MetricsText, Ready and Authenticate are called
// from HTTP handler threads and must be thread-safe. controller(),
// history() and zonal_shifts() are used only inside RunOnLoop tasks (on the
// controller's loop thread), never directly from a handler thread.
//
// Ownership: the backend owns everything it returns and outlives the
// ApiServer that uses it.
#pragma once

#include <functional>
#include <string>

#include "api/role.h"
#include "controller/controller.h"
#include "core/event_loop.h"
#include "core/status.h"
#include "history/history.h"

namespace lifeline {

class ZonalShiftManager;
class AutoshiftDetector;
class PracticeRunner;

class ApiBackend {
 public:
  virtual ~ApiBackend() = default;

  // The controller's loop (for its clock; tasks go through RunOnLoop).
  virtual EventLoop& loop() = 0;
  // Runs f on the controller's loop thread and returns OK once it has run.
  // If the loop does not get to f in time (or is shutting down) it returns
  // an error (kDeadlineExceeded / kUnavailable) and guarantees that f never
  // runs: f may refer to the caller's stack. Must not be called from the
  // loop thread itself.
  virtual Status RunOnLoop(std::function<void()> f) = 0;
  // Loop thread only.
  virtual Controller& controller() = 0;
  // Loop thread only (the API queries and subscribes through RunOnLoop).
  virtual History& history() = 0;
  // Zonal shifts, when the host runs them; nullptr otherwise. Loop thread
  // only.
  virtual ZonalShiftManager* zonal_shifts() { return nullptr; }
  // The zone-impairment detector and the practice-run scheduler, when the
  // host runs them (they need zonal_shifts()); loop thread only.
  virtual AutoshiftDetector* autoshift() { return nullptr; }
  virtual PracticeRunner* practice_runs() { return nullptr; }

  // Prometheus text exposition.
  virtual std::string MetricsText() = 0;
  // Ready to serve (adoption done, store open).
  virtual bool Ready() = 0;
  // The role of a bearer token; kUnauthenticated for an unknown one.
  virtual Result<Role> Authenticate(const std::string& bearer) = 0;
};

}  // namespace lifeline
