// Ec2Provider end to end against moto_server: real HTTP, SigV4 signing,
// XML, on a RealLoop thread (fixture: moto_fixture.h).
#include <set>

#include "providers/ec2/moto_fixture.h"

namespace lifeline::ec2 {
namespace {

TEST_F(Ec2MotoTest, ListsTheRegionsZones) {
  auto zones = Call<std::vector<ZoneInfo>>(
      [this](auto done) { provider_->ListZones(std::move(done)); });
  ASSERT_TRUE(zones.ok()) << zones.status().ToString();
  std::set<std::string> names;
  for (const ZoneInfo& z : *zones) {
    names.insert(z.name);
    EXPECT_TRUE(z.available);
  }
  EXPECT_TRUE(names.count("us-east-1a"));
  EXPECT_TRUE(names.count("us-east-1b"));
}

TEST_F(Ec2MotoTest, LaunchFollowsTheSpecAndIsIdempotentByToken) {
  LaunchRequest req = Request("web", "web-token-1", "us-east-1b");
  InstanceInfo a = Launch(req);
  ASSERT_FALSE(a.id.empty());
  EXPECT_EQ(a.group, "web");
  EXPECT_EQ(a.launch_token, "web-token-1");
  EXPECT_EQ(a.zone, "us-east-1b");
  EXPECT_EQ(a.tags.at("Name"), "web-web-token-1");
  ASSERT_EQ(a.volumes.size(), 1u);
  EXPECT_EQ(a.volumes[0].device, "/dev/sdf");
  EXPECT_TRUE(a.volumes[0].detachable);

  // The same token again: the same instance, nothing new launched.
  InstanceInfo b = Launch(req);
  EXPECT_EQ(b.id, a.id);
  auto listed = Call<std::vector<InstanceInfo>>(
      [this](auto done) { provider_->ListInstances("web", std::move(done)); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, a.id);

  // What EC2 recorded, seen through the AWS CLI.
  EXPECT_EQ(Aws("describe-instances --instance-ids " + a.id +
                " --query Reservations[0].Instances[0].[InstanceType,"
                "ClientToken]"),
            "t3.micro\tweb-token-1");

  // A different token is a different instance.
  InstanceInfo c = Launch(Request("web", "web-token-2"));
  EXPECT_NE(c.id, a.id);
}

TEST_F(Ec2MotoTest, DescribeStatusReportsChecksAndUnknownIdsAsTerminated) {
  InstanceInfo a = Launch(Request("web", "t1"));
  ASSERT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);
  auto r = Call<std::vector<InstanceStatus>>([this, a](auto done) {
    provider_->DescribeStatus({"i-0123456789abcdef0", a.id}, std::move(done));
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].lifecycle, Lifecycle::kTerminated);
  EXPECT_EQ((*r)[1].id, a.id);
  EXPECT_EQ((*r)[1].system_check, CheckState::kOk);
  EXPECT_EQ((*r)[1].instance_check, CheckState::kOk);

  // An empty list means every instance Lifeline launched.
  auto all = Call<std::vector<InstanceStatus>>(
      [this](auto done) { provider_->DescribeStatus({}, std::move(done)); });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().id, a.id);
}

TEST_F(Ec2MotoTest, RebootStopStartAndRecoverKeepTheIdentity) {
  InstanceInfo a = Launch(Request("web", "t1"));
  ASSERT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);
  EXPECT_TRUE(CallStatus([&](auto done) {
                provider_->Reboot(a.id, std::move(done));
              }).ok());
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);

  Status s = CallStatus([&](auto done) { provider_->Stop(a.id, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kStopped), Lifecycle::kStopped);
  s = CallStatus([&](auto done) { provider_->Start(a.id, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);

  s = CallStatus([&](auto done) { provider_->Recover(a.id, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);
  auto listed = Call<std::vector<InstanceInfo>>(
      [this](auto done) { provider_->ListInstances("web", std::move(done)); });
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, a.id);            // same identity
  ASSERT_EQ(listed->front().volumes.size(), 1u);  // same volumes
  EXPECT_EQ(listed->front().volumes[0].id, a.volumes[0].id);
}

TEST_F(Ec2MotoTest, TerminateAndTerminatedBehindOurBack) {
  InstanceInfo a = Launch(Request("web", "t1"));
  InstanceInfo b = Launch(Request("web", "t2"));
  Status s = CallStatus([&](auto done) { provider_->Terminate(a.id, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kTerminated), Lifecycle::kTerminated);
  // Terminating again is fine.
  EXPECT_TRUE(
      CallStatus([&](auto done) { provider_->Terminate(a.id, done); }).ok());

  // Someone else terminates b with the AWS CLI.
  Aws("terminate-instances --instance-ids " + b.id);
  EXPECT_EQ(WaitFor(b.id, Lifecycle::kTerminated), Lifecycle::kTerminated);
  auto listed = Call<std::vector<InstanceInfo>>(
      [this](auto done) { provider_->ListInstances("web", std::move(done)); });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(Ec2MotoTest, SnapshotsEveryVolumeAndWaitsForCompletion) {
  InstanceInfo a = Launch(Request("db", "t1"));
  auto snaps = Call<std::vector<Snapshot>>([this, a](auto done) {
    provider_->SnapshotVolumes(a.id, std::move(done));
  });
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  ASSERT_FALSE(snaps->empty());
  std::set<std::string> volumes;
  for (const Snapshot& s : *snaps) {
    EXPECT_TRUE(s.complete);
    EXPECT_EQ(s.id.rfind("snap-", 0), 0u);
    volumes.insert(s.volume_id);
  }
  EXPECT_TRUE(volumes.count(a.volumes[0].id));
  EXPECT_EQ(Aws("describe-snapshots --snapshot-ids " + snaps->front().id +
                " --query Snapshots[0].State"),
            "completed");

  // A replacement launched from the snapshot gets a volume made from it.
  LaunchRequest req = Request("db", "t2");
  for (const Snapshot& s : *snaps) {
    if (s.device == "/dev/sdf") req.volume_snapshots[s.device] = s.id;
  }
  InstanceInfo b = Launch(req);
  ASSERT_FALSE(b.id.empty());
  ASSERT_EQ(b.volumes.size(), 1u);
  EXPECT_EQ(Aws("describe-volumes --volume-ids " + b.volumes[0].id +
                " --query Volumes[0].SnapshotId"),
            req.volume_snapshots["/dev/sdf"]);
}

TEST_F(Ec2MotoTest, DetachableVolumeMovesToTheReplacement) {
  InstanceInfo a = Launch(Request("db", "t1"));
  InstanceInfo b = Launch(Request("db", "t2"));
  const std::string vol = a.volumes.at(0).id;
  Status s = CallStatus([&](auto done) { provider_->DetachVolume(vol, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = CallStatus(
      [&](auto done) { provider_->AttachVolume(vol, b.id, "/dev/sdg", done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Aws("describe-volumes --volume-ids " + vol +
                " --query Volumes[0].Attachments[0].[InstanceId,Device]"),
            b.id + "\t/dev/sdg");
  // Detaching a volume that is already available is not an error.
  ASSERT_TRUE(
      CallStatus([&](auto done) { provider_->DetachVolume(vol, done); }).ok());
  EXPECT_TRUE(
      CallStatus([&](auto done) { provider_->DetachVolume(vol, done); }).ok());
}

TEST_F(Ec2MotoTest, ElasticAddressMovesToAnotherInstance) {
  InstanceInfo a = Launch(Request("web", "t1"));
  InstanceInfo b = Launch(Request("web", "t2"));
  ASSERT_EQ(WaitFor(a.id, Lifecycle::kRunning), Lifecycle::kRunning);
  ASSERT_EQ(WaitFor(b.id, Lifecycle::kRunning), Lifecycle::kRunning);
  std::string alloc =
      Aws("allocate-address --domain vpc --query [PublicIp,AllocationId]");
  std::string ip = alloc.substr(0, alloc.find('\t'));
  Aws("associate-address --instance-id " + a.id + " --public-ip " + ip);

  Status s =
      CallStatus([&](auto done) { provider_->MoveAddress(ip, b.id, done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Aws("describe-addresses --public-ips " + ip +
                " --query Addresses[0].InstanceId"),
            b.id);
  // Moving it where it already is changes nothing.
  EXPECT_TRUE(CallStatus([&](auto done) {
                provider_->MoveAddress(ip, b.id, done);
              }).ok());
  // No destination: the address is released from its holder.
  s = CallStatus([&](auto done) { provider_->MoveAddress(ip, "", done); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string holder = Aws("describe-addresses --public-ips " + ip +
                           " --query Addresses[0].InstanceId");
  EXPECT_TRUE(holder.empty() || holder == "None") << holder;
  s = CallStatus(
      [&](auto done) { provider_->MoveAddress("203.0.113.99", b.id, done); });
  EXPECT_FALSE(s.ok());
}

TEST_F(Ec2MotoTest, AdoptionFindsAnExistingGroupByTag) {
  // Instances launched by someone else (or an earlier Lifeline) with tags.
  Aws("run-instances --image-id " + image_ +
      " --count 2 --instance-type t3.micro --tag-specifications "
      "'ResourceType=instance,Tags=[{Key=lifeline:group,Value=legacy}]' "
      "--query Instances[].InstanceId");
  Aws("run-instances --image-id " + image_ +
      " --count 1 --tag-specifications "
      "'ResourceType=instance,Tags=[{Key=lifeline:group,Value=other}]' "
      "--query Instances[].InstanceId");
  Aws("run-instances --image-id " + image_ + " --count 1");  // untagged

  // A fresh provider, as after a restart, with small pages.
  Ec2Config c = Config();
  c.page_size = 5;
  OnLoop([&] { other_ = std::make_unique<Ec2Provider>(*loop_, c); });
  auto legacy = Call<std::vector<InstanceInfo>>(
      [this](auto done) { other_->ListInstances("legacy", std::move(done)); });
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  ASSERT_EQ(legacy->size(), 2u);
  for (const InstanceInfo& i : *legacy) EXPECT_EQ(i.group, "legacy");
  auto every = Call<std::vector<InstanceInfo>>(
      [this](auto done) { other_->ListInstances("", std::move(done)); });
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->size(), 3u);
}

TEST_F(Ec2MotoTest, ListingPagesThroughManyInstances) {
  for (int i = 0; i < 12; ++i) Launch(Request("big", "t" + std::to_string(i)));
  Ec2Config c = Config();
  c.page_size = 5;
  OnLoop([&] { other_ = std::make_unique<Ec2Provider>(*loop_, c); });
  uint64_t before = other_->client().requests_sent();
  auto r = Call<std::vector<InstanceInfo>>(
      [this](auto done) { other_->ListInstances("big", std::move(done)); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::string> ids;
  for (const InstanceInfo& i : *r) ids.insert(i.id);
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_GE(other_->client().requests_sent() - before, 3u);  // 5 + 5 + 2
}

TEST_F(Ec2MotoTest, StoppedLaunchMakesAWarmStandby) {
  LaunchRequest req = Request("warm", "w1");
  req.stopped = true;
  InstanceInfo a = Launch(req);
  ASSERT_FALSE(a.id.empty());
  EXPECT_EQ(WaitFor(a.id, Lifecycle::kStopped), Lifecycle::kStopped);
}

TEST_F(Ec2MotoTest, CredentialsFromInstanceMetadata) {
  // moto also serves the IMDSv2 endpoints.
  Ec2Config c = Config();
  c.credentials_source = CredentialsSource::kImds;
  c.credentials = {};
  c.imds_endpoint = server_->endpoint();
  OnLoop([&] { other_ = std::make_unique<Ec2Provider>(*loop_, c); });
  ASSERT_TRUE(other_->init_status().ok());
  auto zones = Call<std::vector<ZoneInfo>>(
      [this](auto done) { other_->ListZones(std::move(done)); });
  ASSERT_TRUE(zones.ok()) << zones.status().ToString();
  EXPECT_FALSE(zones->empty());
}

TEST_F(Ec2MotoTest, UnreachableEndpointFailsNamingTheCall) {
  Ec2Config c = Config();
  c.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  c.retry.max_attempts = 2;
  OnLoop([&] { other_ = std::make_unique<Ec2Provider>(*loop_, c); });
  Status s = CallStatus([&](auto done) { other_->Reboot("i-1", done); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("ec2: RebootInstances(i-1): POST "
                             "http://127.0.0.1:1"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("[2 attempts]"), std::string::npos);
}

TEST_F(Ec2MotoTest, Ec2ErrorsNameCodeAndRequestId) {
  Status s = CallStatus(
      [&](auto done) { provider_->Reboot("i-0123456789abcdef0", done); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("ec2: RebootInstances(i-0123456789abcdef0): "
                             "InvalidInstanceID.NotFound (request "),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace lifeline::ec2
