// Daemon: lifelined's process, wired from a DaemonConfig. It owns every
// long-lived object and the threads that run them:
//
//   RealClock, RealLoop (the controller thread) ── Controller
//   Provider (process | sim | ec2), on the loop
//   SqliteStore <state_dir>/state.db ── DurableHistory (writer thread)
//                                    └─ StoreJournal (workflows, flags)
//   HeartbeatService (receiver + ticker threads) when a group checks
//     application health: the controller's InstanceObserver Tracks and
//     Untracks instances; transitions arrive on the loop
//   a stall timer on the loop (lateness > safety.stall_threshold ->
//     Controller::OnLoopStall), metrics, tokens, sd_notify, signals
//
// Life cycle: Create() builds and checks everything (store, provider, key
// files, tokens) without starting threads; Start() applies the groups,
// starts the controller, the heartbeat service and the loop thread;
// Stop() stops them in reverse order and flushes the history. SIGTERM /
// SIGINT (with handle_signals) call RequestStop(); Wait() returns then.
// SIGHUP calls Reload(): a file that does not parse or validate keeps the
// running config and the error is logged and returned. A reload applies
// the groups, daemon.log_level / log_format, the safety section (through
// the governor) and whatever reload hooks the host registered (webhooks,
// autoshift); the other sections need a restart.
//
// Groups applied through the API survive a restart when the host gives a
// group codec (DaemonOptions::encode_group / decode_group): every group
// change by an actor other than the config file is written to the store
// (Namespace::kGroups); a change by the config file, or a deletion,
// removes the stored copy. At Start() the stored groups are applied
// first, then the file's: the file wins for every group it names.
//
// Thread-safety: Start, Stop, Wait are for the owning thread. RunOnLoop,
// Reload, RequestStop, MetricsText, Ready, Authenticate, config() and
// history() may be called from any thread. controller() and the provider
// belong to the loop thread: use them inside RunOnLoop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>

#include "api/role.h"
#include "config/daemon_config.h"
#include "config/overrides.h"
#include "controller/controller.h"
#include "core/clock.h"
#include "core/real_loop.h"
#include "daemon/daemon_log.h"
#include "daemon/metrics.h"
#include "daemon/store_journal.h"
#include "daemon/tokens.h"
#include "heartbeat/heartbeat_service.h"
#include "providers/sim/sim_provider.h"
#include "store/durable_history.h"
#include "store/sqlite_store.h"

namespace lifeline {

struct DaemonOptions {
  // Watch SIGTERM, SIGINT and SIGHUP through a signalfd on the loop. The
  // caller must have blocked them in every thread first (BlockSignals()).
  bool handle_signals = false;
  // Where Reload() reads the config; empty: config.source.
  std::string config_path;
  // Re-applied to the file on every Reload() (flags and environment).
  ConfigOverrides overrides;
  // Relative paths in a reloaded file are resolved against this directory
  // (ResolveRelativePaths); empty: the current directory at Create().
  std::string base_dir;
  // Persisting groups applied through the API (both or neither): the
  // stored form of a GroupSpec and back.
  std::function<std::string(const GroupSpec&)> encode_group;
  std::function<Result<GroupSpec>(const std::string&)> decode_group;
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads
// it creates afterwards), so that only the daemon's signalfd sees them.
Status BlockSignals();

// "host:port" (api.listen) -> host and port; kInvalidArgument otherwise.
Status ParseListenAddress(const std::string& listen, std::string* host,
                          int* port);

namespace daemon_internal {
template <typename T>
struct IsResult : std::false_type {};
template <typename T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace daemon_internal

class Daemon {
 public:
  // Builds everything; kInvalidArgument / kFailedPrecondition / kDataLoss
  // naming what could not be opened (store, provider state, key files,
  // tokens). `log` must outlive the daemon.
  static Result<std::unique_ptr<Daemon>> Create(DaemonConfig config,
                                                DaemonLog& log,
                                                DaemonOptions options = {});
  ~Daemon();  // Stop()s
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Applies the config's groups, starts the controller, the heartbeat
  // service and the loop thread; sends READY=1 to systemd.
  Status Start();
  // Stops everything (idempotent; not from the loop thread).
  void Stop();
  // Asks Wait() to return (any thread, including the loop; signal-safe
  // callers should go through the signalfd instead).
  void RequestStop();
  // Blocks until RequestStop() or SIGTERM/SIGINT.
  void Wait();

  // Re-reads the config file and applies group changes through
  // ApplyGroup (groups dropped from the file are deleted once they have
  // no instances), the log level and format, the safety section and the
  // reload hooks. On a parse or validation error, or a hook that cannot
  // prepare, nothing changes; the error is logged and returned.
  // Thread-safe (runs on the loop).
  Status Reload();
  // Same with an already parsed config (tests, the API).
  Status ApplyConfig(const DaemonConfig& config);

  // A part of the host that reloads with the config. On a reload, every
  // hook's prepare step runs on the loop before anything changes: an error
  // aborts the reload (nothing changes). It returns the change to make,
  // run on the loop after the groups were applied. Register and remove on
  // the loop thread (or before Start / after Stop).
  using ReloadHook =
      std::function<Result<std::function<void()>>(const DaemonConfig& next)>;
  int AddReloadHook(ReloadHook hook);
  void RemoveReloadHook(int id);

  // ---- for the API -------------------------------------------------------
  EventLoop& loop() { return loop_; }
  // Runs f on the loop thread and waits for it (at most api.loop_timeout).
  // Returns Status for a void f, else Result<R> (R itself when R is a
  // Status or a Result). If the loop does not start f in time, or the
  // daemon is not running, it returns kDeadlineExceeded / kUnavailable and
  // f never runs, so f may refer to the caller's stack. Called from the
  // loop thread it runs f at once.
  template <class F>
  auto RunOnLoop(F f);
  // The non-template core of RunOnLoop.
  Status RunTask(std::function<void()> f);

  // Loop thread only.
  Controller& controller() { return *controller_; }
  // Thread-safe (DurableHistory).
  History& history() { return *history_; }
  DurableHistory& durable_history() { return *history_; }
  Store& store() { return *store_; }
  // Prometheus text exposition (takes a snapshot on the loop).
  std::string MetricsText();
  // Adoption is done and the first status view is in (fresh evidence).
  bool Ready() const { return ready_.load(std::memory_order_acquire); }
  // The config the daemon started with; what a reload changed (groups,
  // log, safety, webhooks) is in current_config().
  const DaemonConfig& config() const { return config_; }
  // The latest applied config, groups included.
  std::shared_ptr<const DaemonConfig> current_config() const;
  Result<Role> Authenticate(const std::string& bearer) const {
    return tokens_->Authenticate(bearer);
  }
  const TokenStore& tokens() const { return *tokens_; }
  DaemonLog& log() { return log_; }
  const Clock& clock() const { return clock_; }
  // The simulated cloud when provider.kind is sim (else nullptr); loop
  // thread only.
  SimProvider* sim_provider() { return sim_; }
  Provider& provider() { return *provider_; }
  // Bound heartbeat addresses (empty without heartbeats).
  std::vector<std::string> heartbeat_addresses() const;

 private:
  class Observer;
  Daemon(DaemonConfig config, DaemonLog& log, DaemonOptions options);
  Status Build();
  Status BuildProvider();
  Status BuildHeartbeats();
  Status WatchSignals();
  void OnSignal();
  void StallTick();
  void WatchdogTick(Duration every);
  void Notify(const char* state);
  Status ApplyOnLoop(const DaemonConfig& next);
  // Stored API groups not named by the file (Start, before the loop).
  Status RestoreGroups();
  void PersistGroupChange(const HistoryEvent& e);  // loop thread
  // Deletes the groups that left the file once they are empty; re-arms
  // itself while some remain (loop thread).
  void DeleteLeftGroups();

  DaemonConfig config_;
  DaemonLog& log_;
  DaemonOptions options_;
  RealClock clock_;
  RealLoop loop_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<DurableHistory> history_;
  std::unique_ptr<StoreJournal> journal_;
  std::unique_ptr<TokenStore> tokens_;
  DaemonMetrics metrics_;
  std::unique_ptr<Provider> provider_;
  SimProvider* sim_ = nullptr;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<heartbeat::HeartbeatService> heartbeats_;
  std::map<int, ReloadHook> reload_hooks_;  // loop thread
  // Groups a reload removed from the file that still had instances: deleted
  // once empty, unless the API applies them again (loop thread).
  std::set<std::string> left_file_;
  bool left_check_armed_ = false;  // loop thread
  int next_hook_id_ = 1;

  mutable std::mutex config_mu_;
  std::shared_ptr<const DaemonConfig> current_;  // guarded by config_mu_

  int signal_fd_ = -1;
  MonoTime stall_due_{};
  Duration stall_threshold_{};  // loop thread; safety.stall_threshold
  std::atomic<bool> ready_{false};
  std::atomic<bool> running_{false};
  bool started_ = false;  // owner thread
  bool stopped_ = false;  // owner thread
  std::thread loop_thread_;
  std::atomic<std::thread::id> loop_thread_id_{};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;  // guarded by stop_mu_
};

template <class F>
auto Daemon::RunOnLoop(F f) {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    return RunTask([&f] { f(); });
  } else {
    std::optional<R> out;
    Status s = RunTask([&f, &out] { out.emplace(f()); });
    if constexpr (std::is_same_v<R, Status>) {
      if (!s.ok()) return s;
      return std::move(*out);
    } else if constexpr (daemon_internal::IsResult<R>::value) {
      if (!s.ok()) return R(s);
      return std::move(*out);
    } else {
      if (!s.ok()) return Result<R>(s);
      return Result<R>(std::move(*out));
    }
  }
}

}  // namespace lifeline
