// Daemon: building the provider and the heartbeat pipeline from the config.
#include <charconv>

#include "daemon/daemon.h"
#include "daemon/heartbeat_observer.h"
#include "heartbeat/mac.h"
#include "providers/ec2/config.h"
#include "providers/ec2/ec2_provider.h"
#include "providers/process/process_provider.h"

namespace lifeline {

namespace {

uint32_t KeyIdOf(const GroupSpec& g) {
  uint32_t id = 0;
  const std::string& s = g.heartbeat_key_id;
  std::from_chars(s.data(), s.data() + s.size(), id);
  return id;
}

// The AWS environment, with the config's profile/region/endpoint first.
ec2::EnvLookup Ec2Environment(const Ec2Section& s) {
  ec2::EnvLookup base = ec2::ProcessEnvironment();
  return [base, s](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_PROFILE" && !s.profile.empty()) return s.profile;
    if ((name == "AWS_REGION") && !s.region.empty()) return s.region;
    if (name == "AWS_ENDPOINT_URL_EC2" && !s.endpoint.empty()) {
      return s.endpoint;
    }
    return base(name);
  };
}

}  // namespace

Status Daemon::BuildProvider() {
  const ProviderSection& p = config_.provider;
  switch (p.kind) {
    case ProviderKind::kSim: {
      auto sim = std::make_unique<SimProvider>(loop_, p.sim.seed, p.sim.config);
      for (SimPopulateRequest req : p.sim.populate) {
        for (const auto& g : config_.groups) {
          if (g.name != req.group) continue;
          req.spec = g.launch;
          if (req.zones.empty()) req.zones = g.zones;
        }
        auto made = sim->PopulateFleet(req);
        if (!made.ok()) {
          return made.status().Annotate("daemon: sim populate " + req.group);
        }
      }
      sim_ = sim.get();
      provider_ = std::move(sim);
      return Status::Ok();
    }
    case ProviderKind::kProcess: {
      ProcessProviderConfig pc;
      pc.state_dir = config_.ProcessStateDir();
      pc.zones = p.process.zones;
      pc.terminate_grace = p.process.terminate_grace;
      pc.kill_timeout = p.process.kill_timeout;
      pc.keep_data_on_terminate = p.process.keep_data_on_terminate;
      pc.default_path = p.process.default_path;
      pc.log_rotation.max_bytes = p.process.log_max_bytes;
      pc.log_rotation.keep = p.process.log_keep;
      if (config_.NeedsHeartbeats()) {
        pc.heartbeat.addr = config_.HeartbeatAdvertise();
        pc.heartbeat.interval = config_.heartbeat.interval;
        for (const auto& g : config_.groups) {
          if (!g.check_application) continue;
          pc.heartbeat.group_keys[g.name] = {
              config_.heartbeat.keys.at(KeyIdOf(g)), g.heartbeat_key_id};
        }
      }
      auto proc = std::make_unique<ProcessProvider>(loop_, clock_, pc);
      if (!proc->init_status().ok()) {
        return proc->init_status().Annotate("daemon: process provider");
      }
      provider_ = std::move(proc);
      return Status::Ok();
    }
    case ProviderKind::kEc2: {
      auto ec = ec2::Ec2Config::FromEnvironment(Ec2Environment(p.ec2));
      if (!ec.ok()) return ec.status().Annotate("daemon: ec2 provider");
      if (!p.ec2.endpoint.empty()) ec->endpoint = p.ec2.endpoint;
      ec->max_in_flight = p.ec2.max_in_flight;
      ec->request_timeout = p.ec2.request_timeout;
      LIFELINE_RETURN_IF_ERROR(ec->Validate());
      auto e = std::make_unique<ec2::Ec2Provider>(loop_, *ec);
      if (!e->init_status().ok()) {
        return e->init_status().Annotate("daemon: ec2 provider");
      }
      provider_ = std::move(e);
      return Status::Ok();
    }
  }
  return Internal("daemon: unknown provider kind");
}

Status Daemon::BuildHeartbeats() {
  if (!config_.NeedsHeartbeats()) return Status::Ok();
  const HeartbeatSection& h = config_.heartbeat;
  heartbeat::HeartbeatServiceConfig hc;
  hc.receiver.bind_addresses = h.listen;
  hc.receiver.threads = h.threads;
  hc.receiver.reuse_port = h.threads > 1;
  hc.receiver.rcvbuf_bytes = h.rcvbuf_bytes;
  hc.detector.expected_interval = h.interval;
  hc.detector.default_grace = h.default_grace;
  hc.detector.max_silence = h.max_silence;
  hc.detector.phi_suspect = h.phi_suspect;
  hc.detector.phi_failed = h.phi_failed;
  hc.shards = static_cast<size_t>(h.shards);
  hc.clock_skew = h.clock_skew;
  for (const auto& g : config_.groups) {
    if (!g.check_application) continue;
    uint32_t id = KeyIdOf(g);
    const std::string& file = h.keys.at(id);
    auto secret = heartbeat::ReadKeyFile(file);
    if (!secret.ok()) {
      return secret.status().Annotate("daemon: heartbeat key " +
                                      g.heartbeat_key_id + " of group " +
                                      g.name);
    }
    hc.keys.push_back({id, g.name, *secret});
  }
  heartbeat::HeartbeatSink sink;
  Controller* c = controller_.get();
  sink.on_transition = [c](const AppHealthTransition& t) { c->OnAppHealth(t); };
  sink.on_load = [c](const LoadReport& r) { c->OnLoadReport(r); };
  auto svc = heartbeat::HeartbeatService::Create(std::move(hc), clock_, loop_,
                                                 std::move(sink));
  if (!svc.ok()) return svc.status().Annotate("daemon: heartbeat service");
  heartbeats_ = std::move(svc).value();
  observer_ = std::make_unique<Observer>(*heartbeats_, log_);
  controller_->SetInstanceObserver(observer_.get());
  return Status::Ok();
}

}  // namespace lifeline
