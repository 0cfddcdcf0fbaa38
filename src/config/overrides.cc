#include "config/overrides.h"

#include <cstdlib>

namespace lifeline {

EnvReader ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<ConfigOverrides> OverridesFromEnvironment(const EnvReader& env) {
  ConfigOverrides o;
  o.state_dir = env("LIFELINE_STATE_DIR");
  o.api_listen = env("LIFELINE_API_LISTEN");
  o.log_format = env("LIFELINE_LOG_FORMAT");
  o.log_level = env("LIFELINE_LOG_LEVEL");
  o.provider = env("LIFELINE_PROVIDER");
  if (auto v = env("LIFELINE_DRY_RUN_ALL")) {
    if (*v == "true" || *v == "1" || *v == "yes") {
      o.dry_run_all = true;
    } else if (*v == "false" || *v == "0" || *v == "no" || v->empty()) {
      o.dry_run_all = false;
    } else {
      return InvalidArgument(
          "LIFELINE_DRY_RUN_ALL: expected true or false, got \"" + *v + "\"");
    }
  }
  return o;
}

ConfigOverrides Merge(const ConfigOverrides& env,
                      const ConfigOverrides& flags) {
  ConfigOverrides m = env;
  if (flags.state_dir) m.state_dir = flags.state_dir;
  if (flags.api_listen) m.api_listen = flags.api_listen;
  if (flags.log_format) m.log_format = flags.log_format;
  if (flags.log_level) m.log_level = flags.log_level;
  if (flags.provider) m.provider = flags.provider;
  if (flags.dry_run_all) m.dry_run_all = flags.dry_run_all;
  return m;
}

Status ApplyOverrides(const ConfigOverrides& o, DaemonConfig* config) {
  DaemonConfig c = *config;
  if (o.state_dir) {
    if (o.state_dir->empty()) {
      return InvalidArgument("LIFELINE_STATE_DIR / --state-dir: is empty");
    }
    c.daemon.state_dir = *o.state_dir;
  }
  if (o.api_listen) {
    if (!IsHostPort(*o.api_listen)) {
      return InvalidArgument(
          "LIFELINE_API_LISTEN / --api-listen: expected host:port (port "
          "0-65535), got \"" +
          *o.api_listen + "\"");
    }
    c.api.listen = *o.api_listen;
  }
  if (o.log_format && !ParseLogFormat(*o.log_format, &c.daemon.log_format)) {
    return InvalidArgument(
        "LIFELINE_LOG_FORMAT / --log-format: expected text or json, got \"" +
        *o.log_format + "\"");
  }
  if (o.log_level) {
    if (!IsLogLevel(*o.log_level)) {
      return InvalidArgument(
          "LIFELINE_LOG_LEVEL / --log-level: expected trace, debug, info, "
          "warn, error, critical or off, got \"" +
          *o.log_level + "\"");
    }
    c.daemon.log_level = *o.log_level;
  }
  if (o.provider && !ParseProviderKind(*o.provider, &c.provider.kind)) {
    return InvalidArgument(
        "LIFELINE_PROVIDER / --provider: expected process, sim or ec2, got \"" +
        *o.provider + "\"");
  }
  if (o.dry_run_all && *o.dry_run_all) {
    for (auto& g : c.groups) g.safety.dry_run = true;
  }
  *config = std::move(c);
  return Status::Ok();
}

}  // namespace lifeline
