#include "daemon/daemon_api.h"

namespace lifeline {

Result<std::unique_ptr<DaemonApiBackend>> DaemonApiBackend::Create(
    Daemon& daemon) {
  std::unique_ptr<DaemonApiBackend> b(new DaemonApiBackend(daemon));
  Status built;
  Status ran = daemon.RunTask([&] { built = b->BuildShifts(); });
  if (!ran.ok()) return ran;
  if (!built.ok()) return built;
  return b;
}

DaemonApiBackend::~DaemonApiBackend() = default;

Status DaemonApiBackend::BuildShifts() {
  shifts_ = std::make_unique<ZonalShiftManager>(daemon_.controller());
  Store& store = daemon_.store();
  auto stored = store.List(Namespace::kShifts);
  if (!stored.ok()) return stored.status().Annotate("daemon: load shifts");
  std::vector<std::string> json;
  for (auto& [id, text] : *stored) json.push_back(std::move(text));
  DaemonLog& log = daemon_.log();
  shifts_->AddListener([&store, &log](const ZonalShift& shift) {
    WriteBatch b;
    b.Put(Namespace::kShifts, shift.id, ZonalShiftToJson(shift));
    Status s = store.Commit(b);
    if (!s.ok()) {
      log.Error("zonal shift not persisted",
                {{"shift", shift.id}, {"error", s.ToString()}});
    }
  });
  Status restored = shifts_->Restore(json);
  if (!restored.ok()) {
    log.Error("some zonal shifts could not be restored",
              {{"error", restored.ToString()}});
  }
  return Status::Ok();
}

}  // namespace lifeline
