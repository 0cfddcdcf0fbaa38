#include "daemon/daemon_api.h"

#include <fstream>
#include <sstream>

#include "api/decode.h"
#include "api/problem.h"

namespace lifeline {

void UseApiGroupCodec(DaemonOptions* options) {
  options->encode_group = [](const GroupSpec& g) {
    return EncodeGroupSpec(g).dump();
  };
  options->decode_group = [](const std::string& text) -> Result<GroupSpec> {
    // The stored JSON names its group; decode it against that name.
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("name") ||
        !j["name"].is_string()) {
      return DataLoss("stored group is not a JSON object with a name");
    }
    return DecodeGroupSpec(text, j["name"].get<std::string>());
  };
}

namespace {

// A secret file's content without trailing whitespace.
Result<std::string> ReadSecret(const std::string& path,
                               const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(what + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' ||
                        s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  if (s.empty()) return InvalidArgument(what + ": " + path + " is empty");
  return s;
}

}  // namespace

Result<std::vector<WebhookTarget>> WebhookTargetsOf(const DaemonConfig& c) {
  std::vector<WebhookTarget> out;
  for (size_t i = 0; i < c.webhooks.size(); ++i) {
    const WebhookConfig& w = c.webhooks[i];
    std::string at = "webhooks[" + std::to_string(i) + "]";
    WebhookTarget t;
    t.url = w.url;
    t.types = w.events;
    t.timeout = w.timeout;
    t.max_attempts = w.max_attempts;
    if (!w.secret_file.empty()) {
      auto secret = ReadSecret(w.secret_file, at + ".secret_file");
      if (!secret.ok()) return secret.status();
      t.headers[w.secret_header] = *secret;
    }
    if (!w.signing_secret_file.empty()) {
      auto key = ReadSecret(w.signing_secret_file, at + ".signing_secret_file");
      if (!key.ok()) return key.status();
      t.signing_secret = *key;
    }
    out.push_back(std::move(t));
  }
  LIFELINE_RETURN_IF_ERROR(WebhookDispatcher::ValidateTargets(out));
  return out;
}

AutoshiftConfig AutoshiftConfigOf(const AutoshiftSection& s) {
  AutoshiftConfig a;
  a.evaluate_every = s.evaluate_every;
  a.silence_sustain = s.silence_sustain;
  a.load_sustain = s.load_sustain;
  a.hold_down = s.hold_down;
  a.min_instances_per_zone = s.min_instances_per_zone;
  a.silent_ratio = s.silent_ratio;
  a.error_ratio = s.error_ratio;
  return a;
}

Result<std::unique_ptr<DaemonApiBackend>> DaemonApiBackend::Create(
    Daemon& daemon) {
  std::unique_ptr<DaemonApiBackend> b(new DaemonApiBackend(daemon));
  Status built;
  Status ran = daemon.RunTask([&] {
    built = b->BuildShifts();
    if (built.ok()) built = b->BuildWebhooks();
  });
  if (!ran.ok()) return ran;
  if (!built.ok()) {
    // Its parts belong to the running loop: take them down there.
    Status down = daemon.RunTask([&] { b.reset(); });
    if (!down.ok()) return down.Annotate(built.message());
    return built;
  }
  return b;
}

DaemonApiBackend::~DaemonApiBackend() {
  // After Daemon::Stop(): the loop no longer runs, this thread may touch
  // loop-owned objects.
  if (reload_hook_ != 0) daemon_.RemoveReloadHook(reload_hook_);
  if (autoshift_) daemon_.controller().SetAlertHook(nullptr);
  if (webhooks_) webhooks_->Stop();
  practice_.reset();
  autoshift_.reset();
  shifts_.reset();
}

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
  const DaemonConfig& c = daemon_.config();
  autoshift_ = std::make_unique<AutoshiftDetector>(
      daemon_.controller(), *shifts_, AutoshiftConfigOf(c.autoshift));
  AutoshiftDetector* det = autoshift_.get();
  daemon_.controller().SetAlertHook(
      [det](const HistoryEvent& e) { det->OnAlert(e); });
  autoshift_->Start();
  PracticeRunnerConfig pc;
  pc.check_every = c.autoshift.practice_check_every;
  practice_ =
      std::make_unique<PracticeRunner>(daemon_.controller(), *shifts_, pc);
  return Status::Ok();
}

Status DaemonApiBackend::BuildWebhooks() {
  const DaemonConfig& c = daemon_.config();
  auto targets = WebhookTargetsOf(c);
  if (!targets.ok()) return targets.status().Annotate("daemon: webhooks");
  WebhookOptions o;
  o.targets = std::move(targets).value();
  o.region = c.provider.kind == ProviderKind::kEc2 ? c.provider.ec2.region : "";
  o.seed = c.controller.seed;
  webhooks_ = std::make_unique<WebhookDispatcher>(daemon_.clock(), o);
  LIFELINE_RETURN_IF_ERROR(webhooks_->Start());
  // Only enqueues: the controller never waits for a delivery.
  daemon_.history().AddListener(webhooks_->MakeListener());
  WebhookDispatcher* hooks = webhooks_.get();
  DaemonLog& log = daemon_.log();
  reload_hook_ = daemon_.AddReloadHook(
      [hooks, &log](const DaemonConfig& next) -> Result<std::function<void()>> {
        auto targets = WebhookTargetsOf(next);
        if (!targets.ok()) return targets.status();
        return std::function<void()>(
            [hooks, &log, t = std::move(targets).value()]() mutable {
              size_t n = t.size();
              Status s = hooks->SetTargets(std::move(t));
              if (!s.ok()) {
                log.Error("webhooks not reloaded", {{"error", s.ToString()}});
              } else {
                log.Info("webhooks reloaded", {{"targets", std::to_string(n)}});
              }
            });
      });
  if (!o.targets.empty()) {
    log.Info("webhooks enabled",
             {{"targets", std::to_string(o.targets.size())}});
  }
  return Status::Ok();
}

std::string DaemonApiBackend::MetricsText() {
  std::string out = daemon_.MetricsText();
  WebhookStats s = webhooks_->stats();
  out +=
      "# HELP lifeline_webhook_deliveries_total Webhook deliveries by "
      "outcome.\n# TYPE lifeline_webhook_deliveries_total counter\n";
  for (auto [what, v] :
       {std::pair{"enqueued", s.enqueued}, std::pair{"delivered", s.delivered},
        std::pair{"retried", s.retries}, std::pair{"gave_up", s.gave_up},
        std::pair{"dropped", s.dropped}}) {
    out += "lifeline_webhook_deliveries_total{result=\"" + std::string(what) +
           "\"} " + std::to_string(v) + "\n";
  }
  out +=
      "# HELP lifeline_webhook_pending Webhook deliveries waiting.\n# TYPE "
      "lifeline_webhook_pending gauge\nlifeline_webhook_pending " +
      std::to_string(s.pending) + "\n";
  return out;
}

}  // namespace lifeline
