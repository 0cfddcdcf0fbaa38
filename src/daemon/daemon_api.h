// DaemonApiBackend: the HTTP API's view of the daemon (api/api_backend.h),
// and the parts of lifelined that live on top of the API library:
//   - the ZonalShiftManager, persisting every shift change in the Store
//     (Namespace::kShifts, key = shift id, value = ZonalShiftToJson) and
//     restoring them when it is created;
//   - the AutoshiftDetector (config `autoshift`, acting on groups with
//     autoshift.enabled; woken by the controller's alert hook) and the
//     PracticeRunner; their shifts appear in the zonal shift list with
//     source autoshift / practice_run and the detector's figures as
//     evidence;
//   - the WebhookDispatcher (config `webhooks`), fed by a History listener
//     that only enqueues; its targets follow config reloads.
// DaemonOptionsWithGroupCodec() gives the Daemon the API's GroupSpec JSON
// codec so that groups applied through the API survive a restart.
//
// Thread-safety: as ApiBackend. Create it after Daemon::Start() (it builds
// its parts on the loop) and destroy it after Daemon::Stop(), before the
// Daemon.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/api_backend.h"
#include "api/webhooks.h"
#include "daemon/daemon.h"
#include "zones/autoshift.h"
#include "zones/practice_run.h"
#include "zones/zonal_shift.h"

namespace lifeline {

// Sets options->encode_group / decode_group to the API's JSON form.
void UseApiGroupCodec(DaemonOptions* options);

// The webhook targets of a config, secrets read from their files
// (kNotFound / kInvalidArgument naming the file).
Result<std::vector<WebhookTarget>> WebhookTargetsOf(const DaemonConfig& c);
AutoshiftConfig AutoshiftConfigOf(const AutoshiftSection& s);

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
  AutoshiftDetector* autoshift() override { return autoshift_.get(); }
  PracticeRunner* practice_runs() override { return practice_.get(); }
  std::string MetricsText() override;
  bool Ready() override { return daemon_.Ready(); }
  Result<Role> Authenticate(const std::string& bearer) override {
    return daemon_.Authenticate(bearer);
  }

  // Thread-safe.
  WebhookStats webhook_stats() const { return webhooks_->stats(); }

 private:
  explicit DaemonApiBackend(Daemon& daemon) : daemon_(daemon) {}
  Status BuildShifts();    // loop thread
  Status BuildWebhooks();  // loop thread

  Daemon& daemon_;
  std::unique_ptr<ZonalShiftManager> shifts_;
  std::unique_ptr<AutoshiftDetector> autoshift_;
  std::unique_ptr<PracticeRunner> practice_;
  std::unique_ptr<WebhookDispatcher> webhooks_;
  int reload_hook_ = 0;
};

}  // namespace lifeline
