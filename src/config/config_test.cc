#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "config/config_loader.h"
#include "config/overrides.h"

namespace lifeline {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// A minimal valid file on the sim provider with one group.
const char* kMinimal = R"(provider:
  kind: sim
groups:
  - name: web
    desired: 6
    max: 10
    zones: [sim-1a, sim-1b, sim-1c]
    launch:
      image: img-1
)";

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseConfig(yaml, "t.yaml");
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ConfigLoader, EmptyFileGivesTheDocumentedDefaults) {
  auto r = ParseConfig("", "empty.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const DaemonConfig& c = *r;
  EXPECT_EQ(c.daemon.state_dir, "/var/lib/lifeline");
  EXPECT_EQ(c.daemon.log_format, LogFormat::kText);
  EXPECT_EQ(c.daemon.log_level, "info");
  EXPECT_EQ(c.api.listen, "127.0.0.1:9440");
  EXPECT_EQ(c.provider.kind, ProviderKind::kProcess);
  EXPECT_EQ(c.controller.status_poll_interval, seconds(10));
  EXPECT_EQ(c.controller.safety.cold_start_grace, seconds(30));
  EXPECT_TRUE(c.groups.empty());
  EXPECT_FALSE(c.NeedsHeartbeats());
  EXPECT_EQ(c.ProcessStateDir(), "/var/lib/lifeline/instances");
}

TEST(ConfigLoader, ReadsEverySectionIntoTheStructs) {
  std::string yaml = R"(daemon:
  state_dir: /tmp/ll
  log_format: json
  log_level: debug
  systemd_notify: false
  stall_check_interval: 50ms
api:
  listen: 0.0.0.0:9999
  tokens_file: /etc/lifeline/tokens
  loop_timeout: 2s
provider:
  kind: sim
  sim:
    seed: 42
    zones:
      - {name: z1, hosts: 4}
      - z2
    latency:
      boot: 2s
      launch: {base: 100ms, jitter: 50ms}
    populate:
      - {group: web, count: 300}
heartbeat:
  listen: [0.0.0.0:7000]
  interval: 100ms
  keys: {"7": /etc/lifeline/web.key}
safety:
  fleet_actions_per_minute: 100
  cold_start_grace: 1m
  stall_threshold: 2s
controller:
  status_poll_interval: 5s
  max_in_flight_operations: 64
  seed: 9
history:
  max_age: 7d
  max_count: 1000
webhooks:
  - url: https://hooks.example/lifeline
    events: [recovery., safety.]
    secret_header: X-Secret
    secret_file: /etc/lifeline/hook.secret
    signing_secret_file: /etc/lifeline/hook.key
    timeout: 2s
    max_attempts: 3
autoshift:
  evaluate_every: 500ms
  silence_sustain: 10s
  min_instances_per_zone: 2
  silent_ratio: 0.6
groups:
  - name: web
    desired: 3
    min: 1
    max: 9
    zones: [z1, z2]
    launch:
      image: img-9
      instance_type: m5.large
      security_groups: [sg-1]
      subnets: {z1: subnet-1}
      tags: {team: core}
      volumes:
        - {device: /dev/sdf, size_gib: 20, detachable: true}
      command: /bin/sleep
      args: ["1000"]
      env: {A: b}
    grace_period: 45s
    checks: {system: true, instance: true, application: true}
    heartbeat_key_id: "7"
    ladder:
      application:
        - {action: reboot, max_attempts: 3, window: 30m, timeout: 2m}
        - {action: replace}
    backoff: {initial: 2s, max: 1m, multiplier: 3, jitter: 0.1}
    replacement_timeout: 4m
    safety: {actions_per_minute: 30, burst: 5, dry_run: true}
    impaired_zone_behavior: IgnoreUnhealthy
    warm_pool: {min_size: 1, stopped: false}
    autoshift: {enabled: true, max_duration: 2h}
    rebalance: {step_ratio: 0.2, min_healthy_per_zone: 2}
)";
  auto r = ParseConfig(yaml, "full.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const DaemonConfig& c = *r;
  EXPECT_EQ(c.daemon.state_dir, "/tmp/ll");
  EXPECT_EQ(c.daemon.log_format, LogFormat::kJson);
  EXPECT_FALSE(c.daemon.systemd_notify);
  EXPECT_EQ(c.daemon.stall_check_interval, milliseconds(50));
  EXPECT_EQ(c.api.loop_timeout, seconds(2));
  EXPECT_EQ(c.provider.sim.seed, 42u);
  ASSERT_EQ(c.provider.sim.config.zones.size(), 2u);
  EXPECT_EQ(c.provider.sim.config.zones[0].hosts, 4);
  EXPECT_EQ(c.provider.sim.config.zones[1].name, "z2");
  EXPECT_EQ(c.provider.sim.config.latency_of(SimOp::kBoot).base, seconds(2));
  EXPECT_EQ(c.provider.sim.config.latency_of(SimOp::kLaunch).jitter,
            milliseconds(50));
  ASSERT_EQ(c.provider.sim.populate.size(), 1u);
  EXPECT_EQ(c.provider.sim.populate[0].count, 300u);
  EXPECT_EQ(c.heartbeat.keys.at(7), "/etc/lifeline/web.key");
  EXPECT_EQ(c.HeartbeatAdvertise(), "127.0.0.1:7000");
  EXPECT_EQ(c.controller.safety.fleet_actions_per_minute, 100);
  EXPECT_EQ(c.controller.safety.stall_threshold, seconds(2));
  EXPECT_EQ(c.controller.max_in_flight_operations, 64);
  EXPECT_EQ(c.history.max_age, std::chrono::hours(24 * 7));
  EXPECT_EQ(c.history.max_count, 1000u);
  ASSERT_EQ(c.webhooks.size(), 1u);
  EXPECT_EQ(c.webhooks[0].events.size(), 2u);
  EXPECT_EQ(c.webhooks[0].signing_secret_file, "/etc/lifeline/hook.key");
  EXPECT_EQ(c.webhooks[0].timeout, seconds(2));
  EXPECT_EQ(c.webhooks[0].max_attempts, 3);
  EXPECT_EQ(c.autoshift.evaluate_every, milliseconds(500));
  EXPECT_EQ(c.autoshift.silence_sustain, seconds(10));
  EXPECT_EQ(c.autoshift.min_instances_per_zone, 2);
  EXPECT_EQ(c.autoshift.silent_ratio, 0.6);
  EXPECT_EQ(c.autoshift.hold_down, std::chrono::minutes(5));  // default
  ASSERT_EQ(c.groups.size(), 1u);
  const GroupSpec& g = c.groups[0];
  EXPECT_EQ(g.desired, 3);
  EXPECT_EQ(g.launch.subnet_by_zone.at("z1"), "subnet-1");
  ASSERT_EQ(g.launch.volumes.size(), 1u);
  EXPECT_TRUE(g.launch.volumes[0].detachable);
  EXPECT_EQ(g.launch.args, std::vector<std::string>{"1000"});
  EXPECT_TRUE(g.check_application);
  ASSERT_EQ(g.ladder.application.size(), 2u);
  EXPECT_EQ(g.ladder.application[0].max_attempts, 3);
  EXPECT_EQ(g.ladder.application[1].action, RecoveryAction::kReplace);
  EXPECT_EQ(g.ladder.system, RecoveryLadder::Defaults().system);
  EXPECT_EQ(g.backoff.multiplier, 3);
  EXPECT_TRUE(g.safety.dry_run);
  EXPECT_EQ(g.impaired_zone_behavior, ImpairedZoneBehavior::kIgnoreUnhealthy);
  EXPECT_FALSE(g.warm_pool.stopped);
  EXPECT_TRUE(g.autoshift.enabled);
  EXPECT_EQ(g.min_healthy_per_zone, 2);
  EXPECT_TRUE(c.NeedsHeartbeats());
}

TEST(ConfigLoader, MaxDefaultsToDesired) {
  auto r = ParseConfig(R"(provider: {kind: sim}
groups:
  - {name: a, desired: 4, zones: [sim-1a]})",
                       "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->groups[0].max, 4);
  EXPECT_EQ(r->groups[0].min, 0);
}

TEST(ConfigErrors, WrongTypeNamesFileLineColumnAndKey) {
  std::string yaml = kMinimal;
  yaml.replace(yaml.find("desired: 6"), 10, "desired: six");
  EXPECT_EQ(ErrorOf(yaml),
            "t.yaml:5:14: groups[0].desired: expected an integer, got \"six\"");
}

TEST(ConfigErrors, UnknownKeyIsAnError) {
  std::string yaml = kMinimal;
  yaml.replace(yaml.find("desired: 6"), 10, "desried: 6");
  std::string e = ErrorOf(yaml);
  EXPECT_EQ(e.rfind("t.yaml:5:5: groups[0].desried: unknown key", 0), 0u) << e;
}

TEST(ConfigErrors, UnknownTopLevelSection) {
  EXPECT_EQ(ErrorOf("deamon: {}\n").rfind("t.yaml:1:1: deamon: unknown key", 0),
            0u);
}

TEST(ConfigErrors, DuplicateKey) {
  std::string e = ErrorOf("api: {listen: a:1}\napi: {listen: b:2}\n");
  EXPECT_NE(e.find("t.yaml:2:1: api: key given twice"), std::string::npos) << e;
}

TEST(ConfigErrors, BadYamlSyntaxHasALocation) {
  std::string e = ErrorOf("groups: [\n  - a\n");
  EXPECT_EQ(e.rfind("t.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("not valid YAML"), std::string::npos) << e;
}

TEST(ConfigErrors, BadDuration) {
  EXPECT_EQ(ErrorOf("controller:\n  status_poll_interval: soon\n"),
            "t.yaml:2:25: controller.status_poll_interval: expected a duration "
            "such as \"250ms\", \"30s\", \"5m\" or \"1h30m\", got \"soon\"");
}

TEST(ConfigErrors, BadBoolNumberAndList) {
  EXPECT_NE(ErrorOf("daemon: {systemd_notify: maybe}\n")
                .find("daemon.systemd_notify: expected true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOf("safety: {fleet_burst: lots}\n")
                .find("safety.fleet_burst: expected a number, got \"lots\""),
            std::string::npos);
  EXPECT_NE(ErrorOf("heartbeat: {listen: {a: b}}\n")
                .find("heartbeat.listen: expected a list, got a mapping"),
            std::string::npos);
  EXPECT_NE(ErrorOf("api: [1, 2]\n")
                .find("t.yaml:1:6: api: expected a mapping, got a list"),
            std::string::npos);
}

TEST(ConfigErrors, BadEnumValues) {
  EXPECT_NE(ErrorOf("daemon: {log_format: xml}\n")
                .find("daemon.log_format: expected text or json, got \"xml\""),
            std::string::npos);
  EXPECT_NE(ErrorOf("daemon: {log_level: loud}\n").find("daemon.log_level"),
            std::string::npos);
  EXPECT_NE(ErrorOf("provider: {kind: gce}\n")
                .find("provider.kind: expected process, sim or ec2"),
            std::string::npos);
  std::string yaml =
      std::string(kMinimal) + "    impaired_zone_behavior: Panic\n";
  EXPECT_NE(ErrorOf(yaml).find("groups[0].impaired_zone_behavior: expected "
                               "ReplaceUnhealthy or IgnoreUnhealthy"),
            std::string::npos);
  yaml = std::string(kMinimal) +
         "    ladder:\n      system:\n        - {action: pray}\n";
  EXPECT_NE(ErrorOf(yaml).find("t.yaml:12:20: groups[0].ladder.system[0]."
                               "action: expected reboot, recover or replace"),
            std::string::npos)
      << ErrorOf(yaml);
}

TEST(ConfigErrors, GroupValidationCarriesTheGroupsLocation) {
  std::string yaml = kMinimal;
  yaml.replace(yaml.find("desired: 6"), 10, "desired: 60");
  std::string e = ErrorOf(yaml);
  EXPECT_EQ(
      e.rfind("t.yaml:4:5: groups[0]: group web: desired 60 is outside", 0), 0u)
      << e;
}

TEST(ConfigErrors, GroupDefinedTwice) {
  std::string yaml =
      std::string(kMinimal) + "  - {name: web, desired: 1, zones: [sim-1a]}\n";
  EXPECT_NE(
      ErrorOf(yaml).find("groups[1].name: group \"web\" is defined twice"),
      std::string::npos);
}

TEST(ConfigErrors, ZoneTheProviderDoesNotOffer) {
  std::string yaml = kMinimal;
  yaml.replace(yaml.find("sim-1c"), 6, "us-east-1a");
  EXPECT_NE(ErrorOf(yaml).find("zone \"us-east-1a\" is not offered by the sim "
                               "provider"),
            std::string::npos);
}

TEST(ConfigErrors, ApplicationChecksNeedAConfiguredKey) {
  std::string yaml =
      std::string(kMinimal) + "    checks: {application: true}\n";
  EXPECT_NE(ErrorOf(yaml).find("needs a heartbeat key id"), std::string::npos);
  std::string with_id = yaml + "    heartbeat_key_id: \"3\"\n";
  EXPECT_NE(ErrorOf(with_id).find("key id \"3\" is not in heartbeat.keys"),
            std::string::npos);
  std::string with_key = "heartbeat: {keys: {\"3\": /k}}\n" + with_id;
  EXPECT_EQ(ErrorOf(with_key), "OK");
}

TEST(ConfigErrors, ProcessProviderNeedsACommand) {
  EXPECT_NE(ErrorOf("groups:\n  - {name: a, desired: 1, zones: [zone-a]}\n")
                .find("groups[0].launch.command: the process provider needs "
                      "a command"),
            std::string::npos);
}

TEST(ConfigErrors, TheProcessDataDirCannotBeDetachable) {
  const std::string group =
      "groups:\n  - name: a\n    desired: 1\n    zones: [zone-a]\n"
      "    launch:\n      command: /bin/true\n      volumes:\n";
  EXPECT_EQ(ErrorOf(group + "        - {device: data, snapshot_on_replace: "
                            "true}\n"),
            "OK");
  EXPECT_NE(ErrorOf(group + "        - {device: data, detachable: true}\n")
                .find("groups[0].launch.volumes[0].detachable: device 'data' "
                      "is the instance's data dir"),
            std::string::npos);
}

TEST(ConfigLoader, ProcessLogRotation) {
  auto r = ParseConfig(
      "provider: {process: {log_max_bytes: 65536, log_keep: 5}}\n", "t.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->provider.process.log_max_bytes, 65536u);
  EXPECT_EQ(r->provider.process.log_keep, 5);
  auto d = ParseConfig("", "t.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->provider.process.log_max_bytes, 10u << 20);
  EXPECT_EQ(d->provider.process.log_keep, 3);
  EXPECT_NE(ErrorOf("provider: {process: {log_keep: 0}}\n")
                .find("provider.process.log_keep: must be between 1 and 100"),
            std::string::npos);
  EXPECT_NE(ErrorOf("provider: {process: {log_max_bytes: 10}}\n")
                .find("provider.process.log_max_bytes: must be at least 4096"),
            std::string::npos);
}

TEST(ConfigErrors, SectionRules) {
  EXPECT_NE(
      ErrorOf("api: {tls_cert: /c}\n").find("tls_cert and tls_key go together"),
      std::string::npos);
  EXPECT_NE(ErrorOf("api: {listen: nowhere}\n")
                .find("api.listen: expected host:port"),
            std::string::npos);
  EXPECT_NE(ErrorOf("heartbeat: {keys: {abc: /k}}\n")
                .find("heartbeat.keys.abc: a key id is a decimal number"),
            std::string::npos);
  EXPECT_NE(ErrorOf("webhooks:\n  - {url: ftp://x}\n")
                .find("webhooks[0].url: expected an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(ErrorOf("webhooks:\n  - {url: http://x, max_attempts: 0}\n")
                .find("webhooks[0].max_attempts: must be between 1 and 100"),
            std::string::npos);
  EXPECT_NE(ErrorOf("webhooks:\n  - {url: http://x, timeout: 0s}\n")
                .find("webhooks[0].timeout: must be positive"),
            std::string::npos);
  EXPECT_NE(ErrorOf("webhooks:\n  - {url: http://x, signing_key: k}\n")
                .find("signing_key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("autoshift: {silent_ratio: 0}\n")
                .find("autoshift.silent_ratio: must be within (0, 1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("autoshift: {min_instances_per_zone: 0}\n")
                .find("autoshift.min_instances_per_zone: must be at least 1"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf("autoshift: {evaluate_every: 0s}\n").find("must be positive"),
      std::string::npos);
  EXPECT_NE(ErrorOf("provider: {sim: {zones: []}}\n").find("provider.sim"),
            std::string::npos);
  EXPECT_NE(ErrorOf("provider:\n  kind: sim\n  sim:\n    populate:\n"
                    "      - {group: nope, count: 3}\n")
                .find("group \"nope\" is not defined"),
            std::string::npos);
  EXPECT_NE(ErrorOf("safety: {zone_panic_ratio: 2}\n")
                .find("safety.zone_panic_ratio: must be within (0, 1]"),
            std::string::npos);
}

TEST(ConfigErrors, MissingFileIsNotFound) {
  auto r = LoadConfigFile("/nonexistent/lifeline.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/lifeline.yaml"),
            std::string::npos);
}

TEST(ConfigLoader, LoadsAFileAndNamesItInErrors) {
  std::string path = ::testing::TempDir() + "/config_test_bad.yaml";
  {
    std::ofstream out(path);
    out << "daemon:\n  log_level: 7up\n";
  }
  auto r = LoadConfigFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path + ":2:14: daemon.log_level", 0), 0u)
      << r.status().message();
}

// ---- overrides -------------------------------------------------------------

EnvReader FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigOverrides, EnvironmentOverridesTheFile) {
  auto c = ParseConfig(kMinimal, "t.yaml");
  ASSERT_TRUE(c.ok());
  auto env = OverridesFromEnvironment(FakeEnv({
      {"LIFELINE_STATE_DIR", "/srv/ll"},
      {"LIFELINE_API_LISTEN", "0.0.0.0:1234"},
      {"LIFELINE_LOG_FORMAT", "json"},
      {"LIFELINE_LOG_LEVEL", "warn"},
      {"LIFELINE_PROVIDER", "process"},
      {"LIFELINE_DRY_RUN_ALL", "true"},
  }));
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(ApplyOverrides(*env, &*c).ok());
  EXPECT_EQ(c->daemon.state_dir, "/srv/ll");
  EXPECT_EQ(c->api.listen, "0.0.0.0:1234");
  EXPECT_EQ(c->daemon.log_format, LogFormat::kJson);
  EXPECT_EQ(c->daemon.log_level, "warn");
  EXPECT_EQ(c->provider.kind, ProviderKind::kProcess);
  EXPECT_TRUE(c->groups[0].safety.dry_run);
}

TEST(ConfigOverrides, FlagsWinOverEnvironment) {
  auto c = ParseConfig(kMinimal, "t.yaml");
  ASSERT_TRUE(c.ok());
  auto env = OverridesFromEnvironment(FakeEnv(
      {{"LIFELINE_STATE_DIR", "/env"}, {"LIFELINE_LOG_LEVEL", "warn"}}));
  ASSERT_TRUE(env.ok());
  ConfigOverrides flags;
  flags.state_dir = "/flag";
  ASSERT_TRUE(ApplyOverrides(Merge(*env, flags), &*c).ok());
  EXPECT_EQ(c->daemon.state_dir, "/flag");
  EXPECT_EQ(c->daemon.log_level, "warn");
}

TEST(ConfigOverrides, UnsetVariablesChangeNothing) {
  auto c = ParseConfig(kMinimal, "t.yaml");
  ASSERT_TRUE(c.ok());
  DaemonConfig before = *c;
  auto env = OverridesFromEnvironment(FakeEnv({}));
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(ApplyOverrides(*env, &*c).ok());
  EXPECT_EQ(c->daemon.state_dir, before.daemon.state_dir);
  EXPECT_EQ(c->provider.kind, ProviderKind::kSim);
  EXPECT_EQ(c->groups, before.groups);
}

TEST(ConfigOverrides, BadValuesAreRefusedAndLeaveTheConfig) {
  auto c = ParseConfig(kMinimal, "t.yaml");
  ASSERT_TRUE(c.ok());
  for (auto [var, value, expect] :
       {std::tuple{"LIFELINE_LOG_FORMAT", "xml", "expected text or json"},
        std::tuple{"LIFELINE_LOG_LEVEL", "loud", "LIFELINE_LOG_LEVEL"},
        std::tuple{"LIFELINE_PROVIDER", "gce", "expected process, sim or ec2"},
        std::tuple{"LIFELINE_API_LISTEN", "nowhere", "expected host:port"},
        std::tuple{"LIFELINE_STATE_DIR", "", "is empty"}}) {
    auto env = OverridesFromEnvironment(FakeEnv({{var, value}}));
    ASSERT_TRUE(env.ok());
    Status st = ApplyOverrides(*env, &*c);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << var;
    EXPECT_NE(st.message().find(expect), std::string::npos) << st.message();
    EXPECT_EQ(c->provider.kind, ProviderKind::kSim);
  }
  auto bad = OverridesFromEnvironment(FakeEnv({{"LIFELINE_DRY_RUN_ALL", "x"}}));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace lifeline
