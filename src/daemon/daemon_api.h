// DaemonApiBackend: the HTTP API's view of the daemon (api/api_backend.h).
// It forwards to the Daemon and owns the ZonalShiftManager, persisting
// every shift change in the Store (Namespace::kShifts, key = shift id,
// value = ZonalShiftToJson) and restoring them when it is created.
//
// Thread-safety: as ApiBackend. Create it after Daemon::Start() (it builds
// the shift manager on the loop) and destroy it after Daemon::Stop() or on
// the loop thread, before the Daemon.
#pragma once

#include <memory>
#include <string>

#include "api/api_backend.h"
#include "daemon/daemon.h"
#include "zones/zonal_shift.h"

namespace lifeline {

class DaemonApiBackend final : public ApiBackend {
 public:
  static Result<std::unique_ptr<DaemonApiBackend>> Create(Daemon& daemon);
  ~DaemonApiBackend() override;

  EventLoop& loop() override { return daemon_.loop(); }
  Status RunOnLoop(std::function<void()> f) override {
    return daemon_.RunTask(std::move(f));
  }
  Controller& controller() override { return daemon_.controller(); }
  History& history() override { return daemon_.history(); }
  ZonalShiftManager* zonal_shifts() override { return shifts_.get(); }
  std::string MetricsText() override { return daemon_.MetricsText(); }
  bool Ready() override { return daemon_.Ready(); }
  Result<Role> Authenticate(const std::string& bearer) override {
    return daemon_.Authenticate(bearer);
  }

 private:
  explicit DaemonApiBackend(Daemon& daemon) : daemon_(daemon) {}
  Status BuildShifts();  // loop thread

  Daemon& daemon_;
  std::unique_ptr<ZonalShiftManager> shifts_;
};

}  // namespace lifeline
