// lifelined: keeps fleets of compute instances alive (docs/daemon.md).
//
// Wires everything explicitly: config (file, then LIFELINE_* environment,
// then flags) -> log -> Daemon -> HTTP API, then waits for SIGTERM/SIGINT.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "config/config_loader.h"
#include "config/overrides.h"
#include "daemon/daemon.h"
#ifdef LIFELINE_HAVE_API
#include "api/api_server.h"
#include "daemon/daemon_api.h"
#else
#include "daemon/health_server.h"
#endif

namespace lifeline {
namespace {

int Fail(const std::string& what) {
  std::cerr << "lifelined: " << what << "\n";
  return 1;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "lifelined: keeps fleets of compute instances alive.\n\n"
      "Reads a YAML config (docs/config.md). LIFELINE_STATE_DIR, "
      "LIFELINE_API_LISTEN,\nLIFELINE_LOG_FORMAT, LIFELINE_LOG_LEVEL, "
      "LIFELINE_PROVIDER and LIFELINE_DRY_RUN_ALL\noverride the file; flags "
      "override both. SIGTERM/SIGINT stop cleanly; SIGHUP reloads\nthe file "
      "(a broken file keeps the running config and logs why).",
      "lifelined"};
  std::string config_path;
  ConfigOverrides flags;
  std::string state_dir, api_listen, log_format, log_level, provider;
  bool dry_run_all = false, check_config = false;
  app.add_option("-c,--config", config_path, "YAML config file")
      ->required()
      ->envname("LIFELINE_CONFIG");
  app.add_option("--state-dir", state_dir,
                 "Directory for state.db, admin.token and process instances "
                 "(daemon.state_dir)");
  app.add_option("--api-listen", api_listen,
                 "host:port of the HTTP API (api.listen)");
  app.add_option("--log-format", log_format,
                 "text or json (daemon.log_format)");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (daemon.log_level)");
  app.add_option("--provider", provider, "process, sim or ec2 (provider.kind)");
  app.add_flag("--dry-run-all", dry_run_all,
               "Every group in dry-run: decide and record, never act");
  app.add_flag("--check-config", check_config,
               "Validate the config (file, environment, flags) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 2, as the lifeline
    // CLI does (CLI11's own codes are not documented anywhere of ours).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  auto set = [](const std::string& v, std::optional<std::string>* o) {
    if (!v.empty()) *o = v;
  };
  set(state_dir, &flags.state_dir);
  set(api_listen, &flags.api_listen);
  set(log_format, &flags.log_format);
  set(log_level, &flags.log_level);
  set(provider, &flags.provider);
  if (dry_run_all) flags.dry_run_all = true;

  auto env = OverridesFromEnvironment(ProcessEnvironment());
  if (!env.ok()) return Fail(env.status().message());
  ConfigOverrides overrides = Merge(*env, flags);
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(config.status().message());
  Status over = ApplyOverrides(overrides, &*config);
  if (!over.ok()) return Fail(over.message());
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  ResolveRelativePaths(cwd, &*config);
  if (check_config) {
    std::cout << config_path << ": OK (" << config->groups.size()
              << " group(s), provider " << ToString(config->provider.kind)
              << ", state_dir " << config->daemon.state_dir << ")\n";
    return 0;
  }

  Status blocked = BlockSignals();  // before any thread exists
  if (!blocked.ok()) return Fail(blocked.message());
  RealClock log_clock;
  auto log = DaemonLog::ToStderr(log_clock, config->daemon.log_format,
                                 config->daemon.log_level);
  DaemonOptions options;
  options.handle_signals = true;
  options.config_path = config_path;
  options.overrides = overrides;
  options.base_dir = cwd;
#ifdef LIFELINE_HAVE_API
  UseApiGroupCodec(&options);
#endif
  auto daemon = Daemon::Create(std::move(config).value(), *log, options);
  if (!daemon.ok()) {
    log->Error("cannot start", {{"error", daemon.status().ToString()}});
    return 1;
  }
  Daemon& d = **daemon;
  Status started = d.Start();
  if (!started.ok()) {
    log->Error("cannot start", {{"error", started.ToString()}});
    return 1;
  }
#ifdef LIFELINE_HAVE_API
  auto backend = DaemonApiBackend::Create(d);
  if (!backend.ok()) {
    log->Error("cannot start the API",
               {{"error", backend.status().ToString()}});
    d.Stop();
    return 1;
  }
  ApiServerOptions ao;
  Status addr = ParseListenAddress(d.config().api.listen, &ao.host, &ao.port);
  ao.tls_cert_file = d.config().api.tls_cert;
  ao.tls_key_file = d.config().api.tls_key;
  auto server = std::make_unique<ApiServer>(**backend, ao);
  Status serving = addr.ok() ? server->Start() : addr;
#else
  auto server = std::make_unique<HealthServer>(d);
  Status serving = server->Start();
#endif
  if (!serving.ok()) {
    log->Error("cannot serve the API", {{"error", serving.ToString()},
                                        {"listen", d.config().api.listen}});
    d.Stop();
    return 1;
  }
  log->Info("serving", {{"listen", d.config().api.listen},
                        {"admin_token", d.tokens().admin_token_path()}});
  d.Wait();
  server->Stop();
  d.Stop();
#ifdef LIFELINE_HAVE_API
  server.reset();
  backend->reset();
#endif
  return 0;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) { return lifeline::Main(argc, argv); }
