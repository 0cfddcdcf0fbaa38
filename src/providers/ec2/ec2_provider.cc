#include "providers/ec2/ec2_provider.h"

#include <algorithm>

namespace lifeline::ec2 {
namespace {

constexpr std::string_view kTemplatePrefix = "launch-template:";

std::unique_ptr<Ec2Transport> MakeTransport(const Ec2Config& config,
                                            const Clock& clock) {
  std::unique_ptr<CredentialsProvider> creds;
  if (config.credentials_source == CredentialsSource::kImds) {
    creds = std::make_unique<ImdsCredentialsProvider>(
        config.imds_endpoint, clock, config.connect_timeout);
  } else {
    creds = std::make_unique<StaticCredentialsProvider>(config.credentials);
  }
  return std::make_unique<CurlTransport>(config, std::move(creds));
}

void AddTags(Ec2Query& q, int spec, std::string_view resource_type,
             const std::map<std::string, std::string>& tags) {
  std::string prefix = "TagSpecification." + std::to_string(spec);
  q.Set(prefix + ".ResourceType", std::string(resource_type));
  int n = 0;
  for (const auto& [k, v] : tags) {
    std::string t = prefix + ".Tag." + std::to_string(++n);
    q.Set(t + ".Key", k);
    q.Set(t + ".Value", v);
  }
}

}  // namespace

Ec2Provider::Ec2Provider(EventLoop& loop, Ec2Config config)
    : Ec2Provider(loop, config, MakeTransport(config, loop.clock())) {}

Ec2Provider::Ec2Provider(EventLoop& loop, Ec2Config config,
                         std::unique_ptr<Ec2Transport> transport)
    : loop_(loop),
      config_(std::move(config)),
      init_status_(config_.Validate()),
      client_(loop, std::move(transport), config_.retry, config_.api_version,
              config_.jitter_seed),
      self_(std::make_shared<Ec2Provider*>(this)) {}

Ec2Provider::~Ec2Provider() { self_.reset(); }

void Ec2Provider::PostStatus(DoneStatus done, Status status) {
  loop_.Post([done = std::move(done), s = std::move(status)] { done(s); });
}

CallOptions Ec2Provider::ForInstance(const std::string& instance_id) const {
  CallOptions o;
  auto it = launched_at_.find(instance_id);
  if (it != launched_at_.end()) {
    o.retry_not_found_until =
        it->second + config_.retry.eventual_consistency_window;
  }
  return o;
}

bool Ec2Provider::RecentlyLaunched(const std::string& instance_id) const {
  auto it = launched_at_.find(instance_id);
  return it != launched_at_.end() &&
         loop_.Now() < it->second + config_.retry.eventual_consistency_window;
}

void Ec2Provider::NoteLaunched(const std::string& instance_id) {
  const MonoTime now = loop_.Now();
  if (launched_at_.size() > 4096) {
    std::erase_if(launched_at_, [&](const auto& e) {
      return e.second + config_.retry.eventual_consistency_window <= now;
    });
  }
  launched_at_[instance_id] = now;
}

void Ec2Provider::WaitUntil(std::string what, Probe probe, DoneStatus done) {
  struct Wait {
    std::string what;
    Probe probe;
    DoneStatus done;
    MonoTime deadline;
    std::function<void()> again;
  };
  auto w = std::make_shared<Wait>(Wait{std::move(what),
                                       std::move(probe),
                                       std::move(done),
                                       loop_.Now() + config_.wait_timeout,
                                       {}});
  std::weak_ptr<Ec2Provider*> weak = self_;
  std::weak_ptr<Wait> ww = w;
  w->again = [this, weak, ww] {
    auto w = ww.lock();
    if (!w || !weak.lock()) return;
    w->probe([this, weak, w](Result<bool> reached) {
      if (!weak.lock()) return;
      if (!reached.ok() || *reached) {
        auto done = std::move(w->done);
        w->again = nullptr;  // releases the Wait
        done(reached.ok() ? Status::Ok() : reached.status());
        return;
      }
      if (loop_.Now() + config_.poll_interval > w->deadline) {
        auto done = std::move(w->done);
        std::string what = w->what;
        w->again = nullptr;
        done(DeadlineExceeded(what + ": still not done after " +
                              FormatDuration(config_.wait_timeout)));
        return;
      }
      loop_.RunAfter(config_.poll_interval, [w] {
        if (w->again) w->again();
      });
    });
  };
  w->again();
}

void Ec2Provider::ListZones(Done<std::vector<ZoneInfo>> done) {
  if (!init_status_.ok()) return PostResult(std::move(done), {init_status_});
  Ec2Query q("DescribeAvailabilityZones");
  client_.Call(std::move(q), "DescribeAvailabilityZones", {},
               [done = std::move(done)](Result<Ec2Response> r) {
                 if (!r.ok()) return done(r.status());
                 done(ParseZones(r->root()));
               });
}

Result<Ec2Query> Ec2Provider::BuildRunInstances(
    const LaunchRequest& request) const {
  const LaunchSpec& spec = request.spec;
  const std::string label = "RunInstances(" + request.group + ")";
  if (request.idempotency_token.empty() ||
      request.idempotency_token.size() > 64) {
    return InvalidArgument("ec2: " + label +
                           ": idempotency token must be 1..64 characters");
  }
  if (request.group.empty()) {
    return InvalidArgument("ec2: " + label + ": the group name is empty");
  }
  Ec2Query q("RunInstances");
  q.Set("MinCount", "1").Set("MaxCount", "1");
  q.Set("ClientToken", request.idempotency_token);
  std::string_view image = spec.image;
  if (image.substr(0, kTemplatePrefix.size()) == kTemplatePrefix) {
    std::string_view ref = image.substr(kTemplatePrefix.size());
    size_t colon = ref.find(':');
    std::string_view id = ref.substr(0, colon);
    if (id.empty()) {
      return InvalidArgument("ec2: " + label + ": image " + spec.image +
                             ": launch template name or id is empty");
    }
    q.Set(id.substr(0, 3) == "lt-" ? "LaunchTemplate.LaunchTemplateId"
                                   : "LaunchTemplate.LaunchTemplateName",
          std::string(id));
    if (colon != std::string_view::npos) {
      q.Set("LaunchTemplate.Version", std::string(ref.substr(colon + 1)));
    }
  } else if (image.empty()) {
    return InvalidArgument("ec2: " + label +
                           ": launch spec has no image (an AMI id or "
                           "launch-template:<id or name>[:<version>])");
  } else {
    q.Set("ImageId", spec.image);
  }
  if (!spec.instance_type.empty()) q.Set("InstanceType", spec.instance_type);
  if (!spec.key_name.empty()) q.Set("KeyName", spec.key_name);
  if (!spec.user_data.empty()) q.Set("UserData", Base64Encode(spec.user_data));
  std::vector<std::string> group_ids, group_names;
  for (const std::string& sg : spec.security_groups) {
    (sg.rfind("sg-", 0) == 0 ? group_ids : group_names).push_back(sg);
  }
  q.SetList("SecurityGroupId", group_ids);
  q.SetList("SecurityGroup", group_names);
  auto subnet = spec.subnet_by_zone.find(request.zone);
  if (subnet != spec.subnet_by_zone.end()) {
    q.Set("SubnetId", subnet->second);
  } else if (!request.zone.empty()) {
    q.Set("Placement.AvailabilityZone", request.zone);
  }
  int n = 0;
  auto snapshots = request.volume_snapshots;
  for (const VolumeSpec& v : spec.volumes) {
    std::string p = "BlockDeviceMapping." + std::to_string(++n);
    q.Set(p + ".DeviceName", v.device);
    if (v.size_gib > 0)
      q.Set(p + ".Ebs.VolumeSize", std::to_string(v.size_gib));
    // Detachable volumes outlive the instance so they can move to its
    // replacement.
    q.Set(p + ".Ebs.DeleteOnTermination", v.detachable ? "false" : "true");
    if (auto s = snapshots.find(v.device); s != snapshots.end()) {
      q.Set(p + ".Ebs.SnapshotId", s->second);
      snapshots.erase(s);
    }
  }
  for (const auto& [device, snapshot] : snapshots) {
    std::string p = "BlockDeviceMapping." + std::to_string(++n);
    q.Set(p + ".DeviceName", device);
    q.Set(p + ".Ebs.SnapshotId", snapshot);
  }
  auto tags = spec.tags;
  tags[std::string(kGroupTag)] = request.group;
  tags[std::string(kTokenTag)] = request.idempotency_token;
  AddTags(q, 1, "instance", tags);
  AddTags(q, 2, "volume", {{std::string(kGroupTag), request.group}});
  return q;
}

void Ec2Provider::Launch(const LaunchRequest& request,
                         Done<InstanceInfo> done) {
  if (!init_status_.ok()) return PostResult(std::move(done), {init_status_});
  Result<Ec2Query> run = BuildRunInstances(request);
  if (!run.ok()) return PostResult(std::move(done), {run.status()});
  // A live instance already carrying the token is the launch's result.
  Ec2Query q("DescribeInstances");
  q.AddFilter("tag:" + std::string(kTokenTag), {request.idempotency_token});
  q.AddFilter("instance-state-name", LiveStates());
  auto found = std::make_shared<std::vector<Ec2Instance>>();
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.CallPaged(
      std::move(q),
      "DescribeInstances(token " + request.idempotency_token + ")", {},
      [found](const Ec2Response& page) {
        for (auto& i : ParseInstances(page.root())) found->push_back(i);
      },
      [this, weak, found, request, done = std::move(done)](Status s) mutable {
        if (!weak.lock()) return;
        if (!s.ok()) return done(s);
        if (!found->empty()) return done(found->front().info);
        RunInstances(request, std::move(done));
      });
}

void Ec2Provider::RunInstances(const LaunchRequest& request,
                               Done<InstanceInfo> done) {
  Result<Ec2Query> q = BuildRunInstances(request);
  std::string label = "RunInstances(" + request.group + ", token " +
                      request.idempotency_token + ")";
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.Call(
      std::move(q).value(), label, {},
      [this, weak, label, stopped = request.stopped,
       done = std::move(done)](Result<Ec2Response> r) mutable {
        if (!weak.lock()) return;
        if (!r.ok()) return done(r.status());
        std::vector<Ec2Instance> instances = ParseInstances(r->root());
        if (instances.empty()) {
          return done(Internal("ec2: " + label + ": response (request " +
                               r->request_id + ") lists no instance"));
        }
        InstanceInfo info = std::move(instances.front().info);
        NoteLaunched(info.id);
        if (stopped) return StopAfterLaunch(std::move(info), std::move(done));
        done(std::move(info));
      });
}

void Ec2Provider::StopAfterLaunch(InstanceInfo info, Done<InstanceInfo> done) {
  Ec2Query q("StopInstances");
  q.Set("InstanceId.1", info.id);
  CallOptions o = ForInstance(info.id);
  // A pending instance cannot be stopped yet.
  o.retry_code = "IncorrectInstanceState";
  o.retry_code_until = loop_.Now() + config_.wait_timeout;
  std::string label = "StopInstances(" + info.id + ")";
  client_.Call(std::move(q), label, o,
               [info = std::move(info),
                done = std::move(done)](Result<Ec2Response> r) mutable {
                 if (!r.ok()) return done(r.status());
                 info.lifecycle = Lifecycle::kStopping;
                 done(std::move(info));
               });
}

void Ec2Provider::InstanceAction(const char* action,
                                 const std::string& instance_id,
                                 bool not_found_is_success, DoneStatus done) {
  if (!init_status_.ok()) return PostStatus(std::move(done), init_status_);
  Ec2Query q(action);
  q.Set("InstanceId.1", instance_id);
  auto code = std::make_shared<std::string>();
  client_.Call(
      std::move(q), std::string(action) + "(" + instance_id + ")",
      ForInstance(instance_id),
      [code, not_found_is_success,
       done = std::move(done)](Result<Ec2Response> r) {
        if (!r.ok() && !(not_found_is_success && IsNotFound(*code))) {
          return done(r.status());
        }
        done(Status::Ok());
      },
      [code](const CallError& e) { *code = e.code; });
}

void Ec2Provider::Terminate(const std::string& id, DoneStatus done) {
  InstanceAction("TerminateInstances", id, true, std::move(done));
}
void Ec2Provider::Reboot(const std::string& id, DoneStatus done) {
  InstanceAction("RebootInstances", id, false, std::move(done));
}
void Ec2Provider::Stop(const std::string& id, DoneStatus done) {
  InstanceAction("StopInstances", id, false, std::move(done));
}
void Ec2Provider::Start(const std::string& id, DoneStatus done) {
  InstanceAction("StartInstances", id, false, std::move(done));
}

void Ec2Provider::DescribeInstance(
    const std::string& instance_id, const std::string& label,
    std::function<void(Result<Ec2Instance>)> done) {
  Ec2Query q("DescribeInstances");
  q.Set("InstanceId.1", instance_id);
  client_.Call(
      std::move(q), label, ForInstance(instance_id),
      [instance_id, label, done = std::move(done)](Result<Ec2Response> r) {
        if (!r.ok()) return done(r.status());
        for (Ec2Instance& i : ParseInstances(r->root())) {
          if (i.info.id == instance_id) return done(std::move(i));
        }
        done(NotFound("ec2: " + label + ": request " + r->request_id +
                      " did not list " + instance_id));
      });
}

}  // namespace lifeline::ec2
