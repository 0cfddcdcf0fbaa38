#include "daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include "config/config_loader.h"
#include "daemon/heartbeat_observer.h"

namespace lifeline {

Status BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) {
    return Internal(std::string("daemon: block signals: ") + std::strerror(rc));
  }
  return Status::Ok();
}

Status ParseListenAddress(const std::string& listen, std::string* host,
                          int* port) {
  size_t colon = listen.rfind(':');
  int p = -1;
  if (colon != std::string::npos) {
    const char* b = listen.data() + colon + 1;
    const char* e = listen.data() + listen.size();
    auto [end, ec] = std::from_chars(b, e, p);
    if (ec != std::errc() || end != e) p = -1;
  }
  if (colon == std::string::npos || colon == 0 || p < 0 || p > 65535) {
    return InvalidArgument("api.listen: expected host:port, got \"" + listen +
                           "\"");
  }
  *host = listen.substr(0, colon);
  *port = p;
  return Status::Ok();
}

Daemon::Daemon(DaemonConfig config, DaemonLog& log, DaemonOptions options)
    : config_(std::move(config)),
      log_(log),
      options_(std::move(options)),
      loop_(clock_),
      current_(std::make_shared<const DaemonConfig>(config_)),
      stall_threshold_(config_.controller.safety.stall_threshold) {
  if (options_.config_path.empty()) options_.config_path = config_.source;
  if (options_.base_dir.empty()) {
    std::error_code ec;
    options_.base_dir = std::filesystem::current_path(ec).string();
  }
}

Result<std::unique_ptr<Daemon>> Daemon::Create(DaemonConfig config,
                                               DaemonLog& log,
                                               DaemonOptions options) {
  std::unique_ptr<Daemon> d(
      new Daemon(std::move(config), log, std::move(options)));
  LIFELINE_RETURN_IF_ERROR(d->Build());
  return d;
}

Status Daemon::Build() {
  if (!loop_.init_status().ok()) return loop_.init_status();
  const std::string& dir = config_.daemon.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return FailedPrecondition("daemon: create state_dir " + dir + ": " +
                              ec.message());
  }
  SqliteStore::Options so;
  so.path = dir + "/state.db";
  auto store = SqliteStore::Open(so);
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();

  DurableHistory::Options ho;
  ho.memory_capacity = config_.history.memory_capacity;
  ho.retention.max_age = config_.history.max_age;
  ho.retention.max_count = config_.history.max_count;
  auto history = DurableHistory::Open(*store_, clock_, ho);
  if (!history.ok()) return history.status();
  history_ = std::move(history).value();
  // Every event is logged and counted, on the appending (loop) thread.
  history_->AddListener([this](const HistoryEvent& e) {
    log_.Event(e);
    metrics_.CountHistoryEvent(e);
    if (options_.encode_group && e.type.rfind("group.", 0) == 0) {
      PersistGroupChange(e);
    }
  });
  journal_ = std::make_unique<StoreJournal>(*store_);

  auto tokens = TokenStore::Open(dir, config_.api.tokens_file);
  if (!tokens.ok()) return tokens.status();
  tokens_ = std::move(tokens).value();

  LIFELINE_RETURN_IF_ERROR(BuildProvider());
  // Used only when the journal is fresh (see ControllerConfig).
  config_.controller.first_workflow_id =
      1'000'000'000ULL + std::random_device{}();
  controller_ = std::make_unique<Controller>(
      loop_, *provider_, *history_, config_.controller, journal_.get());
  LIFELINE_RETURN_IF_ERROR(BuildHeartbeats());
  if (options_.handle_signals) LIFELINE_RETURN_IF_ERROR(WatchSignals());
  return Status::Ok();
}

Daemon::~Daemon() {
  Stop();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

Status Daemon::Start() {
  if (started_) return FailedPrecondition("daemon: already started");
  started_ = true;
  // Before the loop thread exists, this thread may use loop-owned objects.
  if (options_.decode_group) LIFELINE_RETURN_IF_ERROR(RestoreGroups());
  for (const auto& g : config_.groups) {
    Status s = controller_->ApplyGroup(g, "config");
    if (!s.ok()) return s.Annotate("daemon: apply group " + g.name);
  }
  if (heartbeats_) {
    Status s = heartbeats_->Start();
    if (!s.ok()) return s.Annotate("daemon: heartbeat service");
  }
  controller_->Start();
  stall_due_ = clock_.Now() + config_.daemon.stall_check_interval;
  loop_.RunAt(stall_due_, [this] { StallTick(); });
  uint64_t watchdog_usec = 0;
  if (config_.daemon.systemd_notify &&
      sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    Duration every = microseconds(watchdog_usec / 2);
    loop_.RunAfter(every, [this, every] { WatchdogTick(every); });
  }
  running_.store(true);
  loop_thread_ = std::thread([this] {
    loop_thread_id_.store(std::this_thread::get_id());
    loop_.Run();
  });
  log_.Info("lifelined started",
            {{"provider", std::string(provider_->name())},
             {"state_dir", config_.daemon.state_dir},
             {"groups", std::to_string(config_.groups.size())},
             {"config", config_.source}});
  Notify("READY=1");
  return Status::Ok();
}

void Daemon::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  Notify("STOPPING=1");
  log_.Info("lifelined stopping");
  running_.store(false);
  if (heartbeats_) heartbeats_->Stop();
  loop_.Stop();
  if (loop_thread_.joinable()) loop_thread_.join();
  ready_.store(false);
  Status flushed = history_->Flush();
  if (!flushed.ok()) {
    log_.Error("history flush at stop failed", {{"error", flushed.ToString()}});
  }
  log_.Info("lifelined stopped");
}

void Daemon::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_requested_ = true;
  }
  stop_cv_.notify_all();
}

void Daemon::Wait() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stop_requested_; });
}

Status Daemon::RunTask(std::function<void()> f) {
  if (std::this_thread::get_id() == loop_thread_id_.load()) {
    f();
    return Status::Ok();
  }
  if (!running_.load()) return Unavailable("daemon: not running");
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false, abandoned = false, done = false;
  };
  auto st = std::make_shared<State>();
  loop_.Post([st, f = std::move(f)] {
    {
      std::lock_guard<std::mutex> lock(st->mu);
      if (st->abandoned) return;
      st->started = true;
    }
    f();
    {
      std::lock_guard<std::mutex> lock(st->mu);
      st->done = true;
    }
    st->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(st->mu);
  MonoTime deadline = clock_.Now() + config_.api.loop_timeout;
  if (st->cv.wait_until(lock, deadline, [&] { return st->done; })) {
    return Status::Ok();
  }
  if (!st->started) {
    st->abandoned = true;
    return DeadlineExceeded(
        "daemon: the controller loop did not answer within " +
        FormatDuration(config_.api.loop_timeout));
  }
  // Already running: it may touch the caller's stack, so wait it out.
  st->cv.wait(lock, [&] { return st->done; });
  return Status::Ok();
}

std::shared_ptr<const DaemonConfig> Daemon::current_config() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return current_;
}

std::string Daemon::MetricsText() {
  std::optional<LoopSnapshot> snap;
  Status s = RunTask([&] { snap = LoopSnapshot::Take(*controller_); });
  if (!s.ok() && running_.load()) {
    log_.Warn("metrics: no controller snapshot", {{"error", s.ToString()}});
  }
  std::optional<heartbeat::HeartbeatStats> hb;
  if (heartbeats_) hb = heartbeats_->stats();
  return metrics_.Render(snap, hb ? &*hb : nullptr, history_->stats());
}

std::vector<std::string> Daemon::heartbeat_addresses() const {
  if (!heartbeats_) return {};
  return heartbeats_->local_addresses();
}

void Daemon::StallTick() {
  MonoTime now = clock_.Now();
  Duration lag = now > stall_due_ ? now - stall_due_ : Duration::zero();
  metrics_.ObserveLoopLag(lag);
  if (lag > stall_threshold_) {
    metrics_.CountLoopStall();
    log_.Warn("controller loop stalled",
              {{"gap", FormatDuration(lag)},
               {"threshold", FormatDuration(stall_threshold_)}});
    controller_->OnLoopStall(lag);
  }
  ready_.store(controller_->ready(), std::memory_order_release);
  stall_due_ = now + config_.daemon.stall_check_interval;
  loop_.RunAt(stall_due_, [this] { StallTick(); });
}

void Daemon::WatchdogTick(Duration every) {
  Notify("WATCHDOG=1");
  loop_.RunAfter(every, [this, every] { WatchdogTick(every); });
}

void Daemon::Notify(const char* state) {
  if (config_.daemon.systemd_notify) sd_notify(0, state);
}

Status Daemon::WatchSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    return Internal(std::string("daemon: signalfd: ") + std::strerror(errno));
  }
  return loop_.WatchFd(signal_fd_, EPOLLIN, [this](uint32_t) { OnSignal(); });
}

void Daemon::OnSignal() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) ==
         static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      log_.Info("SIGHUP: reloading the config",
                {{"config", options_.config_path}});
      (void)Reload();
    } else {
      log_.Info(info.ssi_signo == SIGTERM ? "SIGTERM: stopping"
                                          : "SIGINT: stopping");
      RequestStop();
    }
  }
}

Status Daemon::Reload() {
  if (options_.config_path.empty()) {
    Status s = FailedPrecondition("daemon: reload: no config file to re-read");
    log_.Error("reload refused", {{"error", s.message()}});
    return s;
  }
  auto next = LoadConfigFile(options_.config_path);
  if (!next.ok()) {
    log_.Error("reload failed; keeping the running config",
               {{"error", next.status().message()}});
    return next.status();
  }
  Status over = ApplyOverrides(options_.overrides, &*next);
  if (!over.ok()) {
    log_.Error("reload failed; keeping the running config",
               {{"error", over.message()}});
    return over;
  }
  ResolveRelativePaths(options_.base_dir, &*next);
  return ApplyConfig(*next);
}

Status Daemon::ApplyConfig(const DaemonConfig& next) {
  Status result;
  Status ran = RunTask([&] { result = ApplyOnLoop(next); });
  if (!ran.ok()) result = ran;
  if (!result.ok()) {
    log_.Error("reload failed; keeping the running config",
               {{"error", result.message()}});
  }
  return result;
}

int Daemon::AddReloadHook(ReloadHook hook) {
  int id = next_hook_id_++;
  reload_hooks_.emplace(id, std::move(hook));
  return id;
}

void Daemon::RemoveReloadHook(int id) { reload_hooks_.erase(id); }

// Applies the reloadable parts of `next` (loop thread): groups, log level
// and format, safety, and the reload hooks. Checks every group and
// prepares every hook first so that a bad file changes nothing.
Status Daemon::ApplyOnLoop(const DaemonConfig& next) {
  for (const auto& g : next.groups) {
    Status s = g.Validate();
    if (!s.ok()) return s.Annotate("reload");
  }
  std::vector<std::function<void()>> commits;
  for (auto& [id, hook] : reload_hooks_) {
    auto commit = hook(next);
    if (!commit.ok()) return commit.status().Annotate("reload");
    commits.push_back(std::move(commit).value());
  }
  std::shared_ptr<const DaemonConfig> prev = current_config();
  std::set<std::string> names;
  int applied = 0, deleted = 0;
  for (const auto& g : next.groups) {
    names.insert(g.name);
    const GroupSpec* have = controller_->group(g.name);
    if (have != nullptr && *have == g) continue;
    Status s = controller_->ApplyGroup(g, "config-reload");
    if (!s.ok()) return s.Annotate("reload: apply group " + g.name);
    ++applied;
  }
  // Groups of the previous file, and those an earlier reload removed but
  // could not delete yet.
  std::set<std::string> gone = left_file_;
  for (const auto& g : prev->groups) gone.insert(g.name);
  for (const std::string& name : gone) {
    if (names.count(name) || controller_->group(name) == nullptr) {
      left_file_.erase(name);
      continue;
    }
    Status s = controller_->DeleteGroup(name, "config-reload");
    if (s.ok()) {
      ++deleted;
      left_file_.erase(name);
    } else {
      log_.Warn("group left the config but is kept until it is empty",
                {{"group", name}, {"reason", s.message()}});
      left_file_.insert(name);
    }
  }
  DeleteLeftGroups();
  log_.SetLevel(next.daemon.log_level);
  log_.SetFormat(next.daemon.log_format);
  controller_->governor().SetConfig(next.controller.safety);
  stall_threshold_ = next.controller.safety.stall_threshold;
  for (auto& commit : commits) {
    if (commit) commit();
  }
  // Sections that need a restart keep their running values.
  auto applied_config = std::make_shared<DaemonConfig>(*prev);
  applied_config->groups = next.groups;
  applied_config->source = next.source;
  applied_config->daemon.log_level = next.daemon.log_level;
  applied_config->daemon.log_format = next.daemon.log_format;
  applied_config->controller.safety = next.controller.safety;
  applied_config->webhooks = next.webhooks;
  {
    std::lock_guard<std::mutex> lock(config_mu_);
    current_ = std::move(applied_config);
  }
  log_.Info("config reloaded",
            {{"groups_changed", std::to_string(applied)},
             {"groups_deleted", std::to_string(deleted)},
             {"log_level", next.daemon.log_level},
             {"log_format", std::string(ToString(next.daemon.log_format))},
             {"webhooks", std::to_string(next.webhooks.size())}});
  return Status::Ok();
}

Status Daemon::RestoreGroups() {
  auto stored = store_->List(Namespace::kGroups);
  if (!stored.ok()) return stored.status().Annotate("daemon: load groups");
  std::set<std::string> in_file;
  for (const auto& g : config_.groups) in_file.insert(g.name);
  int restored = 0;
  for (const auto& [name, text] : *stored) {
    if (in_file.count(name)) continue;  // the file wins; its apply drops it
    auto spec = options_.decode_group(text);
    if (!spec.ok()) {
      log_.Error("stored group not restored",
                 {{"group", name}, {"error", spec.status().ToString()}});
      continue;
    }
    Status s = controller_->ApplyGroup(*spec, "store");
    if (!s.ok()) {
      log_.Error("stored group not restored",
                 {{"group", name}, {"error", s.ToString()}});
      continue;
    }
    ++restored;
  }
  if (restored > 0) {
    log_.Info("groups applied through the API restored",
              {{"groups", std::to_string(restored)}});
  }
  return Status::Ok();
}

void Daemon::DeleteLeftGroups() {
  for (auto it = left_file_.begin(); it != left_file_.end();) {
    if (controller_->group(*it) == nullptr ||
        controller_->DeleteGroup(*it, "config-reload").ok()) {
      it = left_file_.erase(it);
    } else {
      ++it;
    }
  }
  if (left_file_.empty() || left_check_armed_) return;
  left_check_armed_ = true;
  loop_.RunAfter(seconds(1), [this] {
    left_check_armed_ = false;
    DeleteLeftGroups();
  });
}

// Keeps Namespace::kGroups holding exactly the groups whose latest change
// came from the API (or another non-config actor).
void Daemon::PersistGroupChange(const HistoryEvent& e) {
  if (e.type != "group.created" && e.type != "group.updated" &&
      e.type != "group.desired_changed" && e.type != "group.deleted") {
    return;
  }
  std::string actor;
  for (const auto& [k, v] : e.evidence) {
    if (k == "actor") actor = v;
  }
  if (actor == "store") return;  // being restored: already stored
  WriteBatch b;
  const GroupSpec* spec = controller_->group(e.group);
  bool from_file = actor == "config" || actor == "config-reload";
  // Applied again through the API after it left the file: the API owns it.
  if (!from_file && (e.type == "group.created" || e.type == "group.updated")) {
    left_file_.erase(e.group);
  }
  if (e.type == "group.deleted" || spec == nullptr || from_file) {
    b.Delete(Namespace::kGroups, e.group);
  } else {
    b.Put(Namespace::kGroups, e.group, options_.encode_group(*spec));
  }
  Status s = store_->Commit(b);
  if (!s.ok()) {
    log_.Error("group change not persisted",
               {{"group", e.group}, {"error", s.ToString()}});
  }
}

}  // namespace lifeline
