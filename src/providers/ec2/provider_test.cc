// Ec2Provider against a scripted transport in simulated time: request
// shapes, multi-step flows and the decisions that need no real EC2.
#include <gtest/gtest.h>

#include "core/sim_loop.h"
#include "providers/ec2/ec2_provider.h"
#include "providers/ec2/fake_transport.h"

namespace lifeline::ec2 {
namespace {

std::string InstanceXml(const std::string& id, const std::string& state,
                        const std::string& root_type = "ebs") {
  return "<item><instanceId>" + id + "</instanceId><instanceState><name>" +
         state + "</name></instanceState><rootDeviceType>" + root_type +
         "</rootDeviceType><placement><availabilityZone>us-east-1a"
         "</availabilityZone></placement></item>";
}

std::string Describe(const std::string& items) {
  return "<DescribeInstancesResponse><requestId>d</requestId><reservationSet>"
         "<item><instancesSet>" +
         items +
         "</instancesSet></item></reservationSet></DescribeInstancesResponse>";
}

std::string Ok(const std::string& action) {
  return "<" + action + "Response><requestId>r</requestId></" + action +
         "Response>";
}

// The Action of each request, in order.
std::vector<std::string> Actions(const std::vector<std::string>& bodies) {
  std::vector<std::string> out;
  for (const std::string& b : bodies) {
    out.push_back(b.substr(7, b.find('&') - 7));
  }
  return out;
}

class Ec2ProviderTest : public ::testing::Test {
 protected:
  Ec2ProviderTest()
      : loop_(clock_), script_(std::make_shared<FakeTransport::Script>()) {
    config_.region = "us-east-1";
    config_.credentials = {"test", "test", "", std::nullopt};
    config_.poll_interval = seconds(1);
    config_.wait_timeout = seconds(30);
    provider_ = std::make_unique<Ec2Provider>(
        loop_, config_, std::make_unique<FakeTransport>(script_));
  }

  template <typename T>
  Result<T> Await(std::function<void(Provider::Done<T>)> call) {
    std::optional<Result<T>> got;
    call([&](Result<T> r) { got.emplace(std::move(r)); });
    loop_.RunUntilIdle();
    if (!got) return Internal("no callback");
    return std::move(*got);
  }
  Status AwaitStatus(std::function<void(Provider::DoneStatus)> call) {
    std::optional<Status> got;
    call([&](Status s) { got = s; });
    loop_.RunUntilIdle();
    return got.value_or(Internal("no callback"));
  }

  SimClock clock_;
  SimLoop loop_;
  Ec2Config config_;
  std::shared_ptr<FakeTransport::Script> script_;
  std::unique_ptr<Ec2Provider> provider_;
};

TEST_F(Ec2ProviderTest, RunInstancesCarriesTheWholeLaunchSpec) {
  LaunchRequest req;
  req.group = "web";
  req.zone = "us-east-1b";
  req.idempotency_token = "web-42";
  req.spec.image = "ami-0abc";
  req.spec.instance_type = "t3.small";
  req.spec.security_groups = {"sg-1", "legacy-name"};
  req.spec.subnet_by_zone = {{"us-east-1b", "subnet-b"}};
  req.spec.tags = {{"Name", "web"}};
  req.spec.user_data = "#!/bin/sh\n";
  req.spec.key_name = "ops";
  req.spec.volumes = {{"/dev/sdf", 20, true, false}, {"/dev/sdg", 5, false}};
  req.volume_snapshots = {{"/dev/sdf", "snap-1"}};
  auto q = provider_->BuildRunInstances(req);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->Get("ImageId"), "ami-0abc");
  EXPECT_EQ(q->Get("InstanceType"), "t3.small");
  EXPECT_EQ(q->Get("ClientToken"), "web-42");
  EXPECT_EQ(q->Get("MinCount"), "1");
  EXPECT_EQ(q->Get("MaxCount"), "1");
  EXPECT_EQ(q->Get("KeyName"), "ops");
  EXPECT_EQ(q->Get("UserData"), "IyEvYmluL3NoCg==");
  EXPECT_EQ(q->Get("SecurityGroupId.1"), "sg-1");
  EXPECT_EQ(q->Get("SecurityGroup.1"), "legacy-name");
  EXPECT_EQ(q->Get("SubnetId"), "subnet-b");
  EXPECT_EQ(q->Get("Placement.AvailabilityZone"), "");
  EXPECT_EQ(q->Get("BlockDeviceMapping.1.DeviceName"), "/dev/sdf");
  EXPECT_EQ(q->Get("BlockDeviceMapping.1.Ebs.VolumeSize"), "20");
  EXPECT_EQ(q->Get("BlockDeviceMapping.1.Ebs.DeleteOnTermination"), "false");
  EXPECT_EQ(q->Get("BlockDeviceMapping.1.Ebs.SnapshotId"), "snap-1");
  EXPECT_EQ(q->Get("BlockDeviceMapping.2.Ebs.DeleteOnTermination"), "true");
  EXPECT_EQ(q->Get("TagSpecification.1.ResourceType"), "instance");
  // Tags in key order: Name, lifeline:group, lifeline:token.
  EXPECT_EQ(q->Get("TagSpecification.1.Tag.1.Key"), "Name");
  EXPECT_EQ(q->Get("TagSpecification.1.Tag.2.Key"), "lifeline:group");
  EXPECT_EQ(q->Get("TagSpecification.1.Tag.2.Value"), "web");
  EXPECT_EQ(q->Get("TagSpecification.1.Tag.3.Key"), "lifeline:token");
  EXPECT_EQ(q->Get("TagSpecification.1.Tag.3.Value"), "web-42");
  EXPECT_EQ(q->Get("TagSpecification.2.ResourceType"), "volume");
}

TEST_F(Ec2ProviderTest, LaunchTemplateReferenceAndZonePlacement) {
  LaunchRequest req;
  req.group = "g";
  req.zone = "us-east-1c";
  req.idempotency_token = "t";
  req.spec.image = "launch-template:lt-0123:7";
  auto q = provider_->BuildRunInstances(req);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Get("ImageId"), "");
  EXPECT_EQ(q->Get("LaunchTemplate.LaunchTemplateId"), "lt-0123");
  EXPECT_EQ(q->Get("LaunchTemplate.Version"), "7");
  EXPECT_EQ(q->Get("Placement.AvailabilityZone"), "us-east-1c");
  req.spec.image = "launch-template:web-template";
  q = provider_->BuildRunInstances(req);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Get("LaunchTemplate.LaunchTemplateName"), "web-template");
  EXPECT_EQ(q->Get("LaunchTemplate.Version"), "");
}

TEST_F(Ec2ProviderTest, LaunchRejectsBadRequestsAsynchronously) {
  LaunchRequest req;
  req.group = "g";
  req.spec.image = "ami-1";
  bool called = false;
  provider_->Launch(req, [&](Result<InstanceInfo> r) {
    called = true;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("idempotency token"),
              std::string::npos);
  });
  EXPECT_FALSE(called);
  loop_.RunUntilIdle();
  EXPECT_TRUE(called);
  EXPECT_TRUE(script_->bodies.empty());
}

TEST_F(Ec2ProviderTest, LaunchReturnsTheInstanceAlreadyCarryingTheToken) {
  script_->handler = [](const std::string& body) {
    EXPECT_TRUE(IsAction(body, "DescribeInstances")) << body;
    return Xml(200, Describe(InstanceXml("i-existing", "running")));
  };
  LaunchRequest req{"web", "us-east-1a", {}, "web-1", {}, false};
  req.spec.image = "ami-1";
  auto r = Await<InstanceInfo>(
      [&](auto done) { provider_->Launch(req, std::move(done)); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "i-existing");
  EXPECT_EQ(Actions(script_->bodies),
            std::vector<std::string>{"DescribeInstances"});
}

TEST_F(Ec2ProviderTest, FreshInstanceUnknownToEc2ReadsPendingNotTerminated) {
  script_->handler = [](const std::string& body) -> Result<HttpResponse> {
    if (IsAction(body, "DescribeInstances")) return Xml(200, Describe(""));
    if (IsAction(body, "RunInstances")) {
      return Xml(200, "<RunInstancesResponse><instancesSet>" +
                          InstanceXml("i-fresh", "pending") +
                          "</instancesSet></RunInstancesResponse>");
    }
    // Eventual consistency: the status API has not heard of i-fresh yet,
    // and i-gone is long gone.
    return ErrorXml(400, "InvalidInstanceID.NotFound",
                    "The instance IDs 'i-fresh, i-gone' do not exist");
  };
  LaunchRequest req{"web", "us-east-1a", {}, "web-1", {}, false};
  req.spec.image = "ami-1";
  ASSERT_TRUE(Await<InstanceInfo>([&](auto done) {
                provider_->Launch(req, std::move(done));
              }).ok());
  auto r = Await<std::vector<InstanceStatus>>([&](auto done) {
    provider_->DescribeStatus({"i-fresh", "i-gone"}, std::move(done));
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "i-fresh");
  EXPECT_EQ((*r)[0].lifecycle, Lifecycle::kPending);
  EXPECT_EQ((*r)[1].id, "i-gone");
  EXPECT_EQ((*r)[1].lifecycle, Lifecycle::kTerminated);
}

TEST_F(Ec2ProviderTest, DescribeStatusDropsUnknownIdsAndAsksAgain) {
  script_->handler = [](const std::string& body) -> Result<HttpResponse> {
    if (body.find("i-gone") != std::string::npos) {
      return ErrorXml(400, "InvalidInstanceID.NotFound",
                      "The instance ID 'i-gone' does not exist");
    }
    return Xml(200,
               "<DescribeInstanceStatusResponse><instanceStatusSet><item>"
               "<instanceId>i-live</instanceId><instanceState><name>running"
               "</name></instanceState><systemStatus><status>impaired"
               "</status></systemStatus><instanceStatus><status>ok</status>"
               "</instanceStatus></item></instanceStatusSet>"
               "</DescribeInstanceStatusResponse>");
  };
  auto r = Await<std::vector<InstanceStatus>>([&](auto done) {
    provider_->DescribeStatus({"i-gone", "i-live"}, std::move(done));
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].lifecycle, Lifecycle::kTerminated);
  EXPECT_EQ((*r)[1].lifecycle, Lifecycle::kRunning);
  EXPECT_EQ((*r)[1].system_check, CheckState::kImpaired);
  ASSERT_EQ(script_->bodies.size(), 2u);
  EXPECT_NE(script_->bodies[0].find("IncludeAllInstances=true"),
            std::string::npos);
  EXPECT_EQ(script_->bodies[1].find("i-gone"), std::string::npos);
}

TEST_F(Ec2ProviderTest, DescribeStatusBatchesAHundredIdsPerCall) {
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) ids.push_back("i-" + std::to_string(i));
  script_->handler = [](const std::string&) {
    return Xml(200, "<DescribeInstanceStatusResponse/>");
  };
  auto r = Await<std::vector<InstanceStatus>>(
      [&](auto done) { provider_->DescribeStatus(ids, std::move(done)); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 250u);
  ASSERT_EQ(script_->bodies.size(), 3u);
  EXPECT_NE(script_->bodies[0].find("InstanceId.100="), std::string::npos);
  EXPECT_EQ(script_->bodies[0].find("InstanceId.101="), std::string::npos);
  EXPECT_NE(script_->bodies[2].find("InstanceId.50=i-249"), std::string::npos);
}

TEST_F(Ec2ProviderTest, RecoverStopsWaitsForStoppedThenStarts) {
  int describes = 0;
  script_->handler = [&](const std::string& body) -> Result<HttpResponse> {
    if (IsAction(body, "DescribeInstances")) {
      const char* state = describes == 0  ? "running"
                          : describes < 3 ? "stopping"
                                          : "stopped";
      ++describes;
      return Xml(200, Describe(InstanceXml("i-1", state)));
    }
    if (IsAction(body, "StopInstances")) return Xml(200, Ok("StopInstances"));
    if (IsAction(body, "StartInstances")) return Xml(200, Ok("StartInstances"));
    return Internal("unexpected " + body);
  };
  MonoTime start = loop_.Now();
  Status s = AwaitStatus(
      [&](auto done) { provider_->Recover("i-1", std::move(done)); });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Actions(script_->bodies),
            (std::vector<std::string>{"DescribeInstances", "StopInstances",
                                      "DescribeInstances", "DescribeInstances",
                                      "DescribeInstances", "StartInstances"}));
  EXPECT_EQ(loop_.Now() - start, seconds(2));  // two polls at 1s
}

TEST_F(Ec2ProviderTest, RecoverRefusesInstanceStoreRoots) {
  script_->handler = [](const std::string&) {
    return Xml(200, Describe(InstanceXml("i-1", "running", "instance-store")));
  };
  Status s = AwaitStatus(
      [&](auto done) { provider_->Recover("i-1", std::move(done)); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("instance-store"), std::string::npos);
  EXPECT_EQ(script_->bodies.size(), 1u);
}

TEST_F(Ec2ProviderTest, RecoverGivesUpWhenTheInstanceNeverStops) {
  script_->handler = [](const std::string& body) {
    if (IsAction(body, "StopInstances")) return Xml(200, Ok("StopInstances"));
    return Xml(200, Describe(InstanceXml("i-1", "stopping")));
  };
  Status s = AwaitStatus(
      [&](auto done) { provider_->Recover("i-1", std::move(done)); });
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("Recover(i-1)"), std::string::npos);
  EXPECT_NE(s.message().find("waiting for stopped"), std::string::npos);
}

TEST_F(Ec2ProviderTest, TerminateOfAGoneInstanceSucceeds) {
  script_->handler = [](const std::string&) {
    return ErrorXml(400, "InvalidInstanceID.NotFound",
                    "The instance ID 'i-old' does not exist");
  };
  EXPECT_TRUE(AwaitStatus([&](auto done) {
                provider_->Terminate("i-old", std::move(done));
              }).ok());
  Status s = AwaitStatus(
      [&](auto done) { provider_->Reboot("i-old", std::move(done)); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("RebootInstances(i-old)"), std::string::npos);
}

TEST_F(Ec2ProviderTest, MoveAddressReassociatesAtomically) {
  script_->handler = [](const std::string& body) -> Result<HttpResponse> {
    if (IsAction(body, "DescribeAddresses")) {
      return Xml(200,
                 "<DescribeAddressesResponse><addressesSet><item><publicIp>"
                 "198.51.100.7</publicIp><allocationId>eipalloc-1"
                 "</allocationId><instanceId>i-old</instanceId><domain>vpc"
                 "</domain></item></addressesSet></DescribeAddressesResponse>");
    }
    return Xml(200, Ok("AssociateAddress"));
  };
  Status s = AwaitStatus([&](auto done) {
    provider_->MoveAddress("198.51.100.7", "i-new", std::move(done));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(script_->bodies.size(), 2u);
  EXPECT_EQ(script_->bodies[1],
            "Action=AssociateAddress&Version=2016-11-15&AllocationId="
            "eipalloc-1&InstanceId=i-new&AllowReassociation=true");
}

TEST_F(Ec2ProviderTest, ListedInstancesCarryOnlyTheirElasticAddresses) {
  script_->handler = [](const std::string& body) -> Result<HttpResponse> {
    if (IsAction(body, "DescribeInstances")) {
      // Both have a public IP; only i-eip's is an elastic address.
      return Xml(200, Describe(InstanceXml("i-eip", "running") +
                               InstanceXml("i-plain", "running")));
    }
    EXPECT_TRUE(IsAction(body, "DescribeAddresses")) << body;
    return Xml(200,
               "<DescribeAddressesResponse><addressesSet><item><publicIp>"
               "198.51.100.7</publicIp><instanceId>i-eip</instanceId></item>"
               "<item><publicIp>198.51.100.8</publicIp></item>"
               "</addressesSet></DescribeAddressesResponse>");
  };
  auto r = Await<std::vector<InstanceInfo>>(
      [&](auto done) { provider_->ListInstances("web", std::move(done)); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].addresses, std::vector<std::string>{"198.51.100.7"});
  EXPECT_TRUE((*r)[1].addresses.empty());
  EXPECT_EQ(
      Actions(script_->bodies),
      (std::vector<std::string>{"DescribeInstances", "DescribeAddresses"}));
}

TEST(Ec2ProviderConfig, InvalidConfigFailsEveryCall) {
  SimClock clock;
  SimLoop loop(clock);
  Ec2Config config;  // no region, no credentials
  auto script = std::make_shared<FakeTransport::Script>();
  Ec2Provider p(loop, config, std::make_unique<FakeTransport>(script));
  EXPECT_FALSE(p.init_status().ok());
  std::optional<Status> got;
  p.Terminate("i-1", [&](Status s) { got = s; });
  loop.RunUntilIdle();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(script->bodies.empty());
}

}  // namespace
}  // namespace lifeline::ec2
