// FakeBackend: an ApiBackend for tests and demos of the API and CLI — a
// real Controller on a SimProvider with fast latencies, a MemoryHistory and
// a ZonalShiftManager, driven by a RealLoop on its own thread. Fixed tokens:
// "admin-token", "operator-token", "viewer-token".
//
// Thread-safety: as ApiBackend. Construction and destruction from the
// owning thread; the destructor stops and joins the loop thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "api/api_backend.h"
#include "core/real_loop.h"
#include "history/history.h"
#include "providers/sim/sim_provider.h"
#include "zones/autoshift.h"
#include "zones/practice_run.h"
#include "zones/zonal_shift.h"

namespace lifeline {

class FakeBackend final : public ApiBackend {
 public:
  FakeBackend();
  ~FakeBackend() override;

  EventLoop& loop() override { return loop_; }
  Status RunOnLoop(std::function<void()> f) override;
  Controller& controller() override { return *controller_; }
  History& history() override { return history_; }
  ZonalShiftManager* zonal_shifts() override { return shifts_.get(); }
  AutoshiftDetector* autoshift() override { return autoshift_.get(); }
  PracticeRunner* practice_runs() override { return practice_.get(); }
  std::string MetricsText() override;
  bool Ready() override;
  Result<Role> Authenticate(const std::string& bearer) override;

  // Loop thread only.
  SimProvider& provider() { return *provider_; }
  // A group "web" in zones sim-1a..c (max 30) with the given desired.
  static GroupSpec Web(int desired);
  // How long RunOnLoop waits for the loop (default 10s).
  void set_loop_timeout(Duration d) { loop_timeout_ = d; }

 private:
  RealClock clock_;
  RealLoop loop_;
  MemoryHistory history_;
  std::unique_ptr<SimProvider> provider_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<ZonalShiftManager> shifts_;
  std::unique_ptr<AutoshiftDetector> autoshift_;
  std::unique_ptr<PracticeRunner> practice_;
  std::map<std::string, Role> tokens_;
  Duration loop_timeout_ = std::chrono::seconds(10);
  std::thread thread_;
};

}  // namespace lifeline
