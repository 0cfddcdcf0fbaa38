// Ec2Provider end to end against moto_server, a real EC2 Query API
// emulator: real HTTP, real SigV4 signing, real XML, on a RealLoop thread.
// The suite starts moto on a free loopback port and resets it before every
// test. It skips only when moto_server (or the AWS CLI it uses to act
// behind the provider's back) is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <set>
#include <thread>

#include "core/real_loop.h"
#include "providers/ec2/ec2_provider.h"
#include "providers/ec2/http.h"
#include "providers/ec2/moto_server.h"
#include "providers/ec2/query.h"

namespace lifeline::ec2 {
namespace {

constexpr char kRegion[] = "us-east-1";

class Ec2MotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (FindOnPath("aws").empty()) {
      skip_ = "the AWS CLI (aws) is not on PATH";
      return;
    }
    auto m = MotoServer::Start(seconds(60));
    if (m.ok()) {
      server_ = std::move(m).value().release();
    } else if (m.status().code() == StatusCode::kNotFound) {
      skip_ = m.status().message();
    } else {
      start_error_ = m.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << "EC2 end-to-end tests need " << skip_;
    ASSERT_NE(server_, nullptr) << start_error_;
    ASSERT_TRUE(server_->Reset().ok());
    loop_ = std::make_unique<RealLoop>(clock_);
    ASSERT_TRUE(loop_->init_status().ok());
    loop_thread_ = std::thread([this] { loop_->Run(); });
    provider_ = std::make_unique<Ec2Provider>(*loop_, Config());
    ASSERT_TRUE(provider_->init_status().ok());
    image_ = FindImage();
    ASSERT_FALSE(image_.empty());
  }

  void TearDown() override {
    if (!loop_) return;
    OnLoop([this] {
      provider_.reset();
      other_.reset();
    });
    loop_->Stop();
    loop_thread_.join();
    loop_.reset();
  }

  Ec2Config Config() const {
    Ec2Config c;
    c.region = kRegion;
    c.endpoint = server_->endpoint();
    c.credentials = {"test", "test", "", std::nullopt};
    c.poll_interval = milliseconds(50);
    c.wait_timeout = seconds(30);
    c.request_timeout = seconds(30);
    c.retry.initial_backoff = milliseconds(20);
    c.retry.max_backoff = milliseconds(500);
    c.retry.eventual_consistency_window = seconds(5);
    return c;
  }

  // Runs fn on the loop thread and waits for it.
  void OnLoop(std::function<void()> fn) {
    std::promise<void> done;
    loop_->Post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Calls into the provider on the loop thread; waits up to `timeout` for
  // the completion.
  template <typename T>
  Result<T> Call(std::function<void(Provider::Done<T>)> fn,
                 Duration timeout = seconds(60)) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    loop_->Post([fn, promise] {
      fn([promise](Result<T> r) { promise->set_value(std::move(r)); });
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      return DeadlineExceeded("no completion within " +
                              FormatDuration(timeout));
    }
    return future.get();
  }
  Status CallStatus(std::function<void(Provider::DoneStatus)> fn) {
    auto r = Call<bool>([fn](Provider::Done<bool> done) {
      fn([done](Status s) {
        if (s.ok()) return done(true);
        done(s);
      });
    });
    return r.status();
  }

  // An EBS-backed image moto knows.
  std::string FindImage() {
    Ec2Query q("DescribeImages");
    q.Set("Owner.1", "amazon");
    q.AddFilter("root-device-type", {"ebs"});
    auto r = Call<std::string>([this, q](Provider::Done<std::string> done) {
      provider_->client().Call(q, "DescribeImages", {},
                               [done](Result<Ec2Response> r) {
                                 if (!r.ok()) return done(r.status());
                                 auto items = Items(r->root(), "imagesSet");
                                 if (items.empty())
                                   return done(Internal("none"));
                                 done(Text(items[0], "imageId"));
                               });
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }

  LaunchRequest Request(const std::string& group, const std::string& token,
                        const std::string& zone = "us-east-1a") {
    LaunchRequest req;
    req.group = group;
    req.zone = zone;
    req.idempotency_token = token;
    req.spec.image = image_;
    req.spec.instance_type = "t3.micro";
    req.spec.tags = {{"Name", group + "-" + token}};
    req.spec.user_data = "#!/bin/sh\necho hello\n";
    req.spec.volumes = {{"/dev/sdf", 10, true, true}};
    return req;
  }

  InstanceInfo Launch(const LaunchRequest& req) {
    auto r = Call<InstanceInfo>(
        [this, req](auto done) { provider_->Launch(req, std::move(done)); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : InstanceInfo{};
  }

  Result<InstanceStatus> StatusOf(const std::string& id) {
    auto r = Call<std::vector<InstanceStatus>>([this, id](auto done) {
      provider_->DescribeStatus({id}, std::move(done));
    });
    if (!r.ok()) return r.status();
    if (r->size() != 1) return Internal("expected one status");
    return r->front();
  }

  // Polls DescribeStatus until the instance reaches `want`, within a
  // deadline; the pause between polls is a loop timer.
  Lifecycle WaitFor(const std::string& id, Lifecycle want) {
    Lifecycle last = Lifecycle::kPending;
    const MonoTime deadline = clock_.Now() + seconds(30);
    while (clock_.Now() < deadline) {
      auto s = StatusOf(id);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (!s.ok()) return last;
      last = s->lifecycle;
      if (last == want) return last;
      OnTimer(milliseconds(50));
    }
    return last;
  }
  void OnTimer(Duration d) {
    std::promise<void> fired;
    loop_->Post([&] { loop_->RunAfter(d, [&] { fired.set_value(); }); });
    fired.get_future().wait();
  }

  // Runs the AWS CLI against moto: "aws ec2 <args>" with text output.
  std::string Aws(const std::string& args) {
    std::string cmd =
        "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
        "AWS_DEFAULT_REGION=" +
        std::string(kRegion) + " AWS_PAGER= aws --endpoint-url " +
        server_->endpoint() + " --output text ec2 " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return "popen failed";
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    EXPECT_EQ(rc, 0) << cmd << "\n" << out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
      out.pop_back();
    }
    return out;
  }

  static MotoServer* server_;
  static std::string skip_;
  static std::string start_error_;

  RealClock clock_;
  std::unique_ptr<RealLoop> loop_;
  std::thread loop_thread_;
  std::unique_ptr<Ec2Provider> provider_;
  std::unique_ptr<Ec2Provider> other_;  // a second provider (adoption)
  std::string image_;
};

MotoServer* Ec2MotoTest::server_ = nullptr;
std::string Ec2MotoTest::skip_;
std::string Ec2MotoTest::start_error_;

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

// moto verifies SigV4 signatures once INITIAL_NO_AUTH_ACTION_COUNT requests
// have been served: six unchecked IAM/STS calls make a user with an access
// key and an ec2:* policy, and a role assumed for temporary credentials;
// every later request must be signed with those keys (and carry the
// session token), exactly as AWS checks it.
TEST_F(Ec2MotoTest, SignaturesVerifyAndABadSecretIsRejected) {
  auto verifying =
      MotoServer::Start(seconds(60), {"INITIAL_NO_AUTH_ACTION_COUNT=6"});
  ASSERT_TRUE(verifying.ok()) << verifying.status().ToString();
  const std::string endpoint = (*verifying)->endpoint();
  CurlHttp http;
  auto iam = [&](const std::string& params, const std::string& service = "iam",
                 const std::string& version =
                     "2010-05-08") -> Result<Ec2Response> {
    HttpRequest req;
    req.url = endpoint + "/";
    req.body = "Version=" + version + "&" + params;
    req.aws_sigv4 = "aws:amz:us-east-1:" + service;
    req.user_pwd = "test:test";
    req.headers = {"Content-Type: application/x-www-form-urlencoded"};
    auto r = http.Perform(req);
    if (!r.ok()) return r.status();
    if (r->status != 200) return Internal(r->body);
    return ParseDocument(r->body);
  };
  ASSERT_TRUE(iam("Action=CreateUser&UserName=lifeline").ok());
  auto key = iam("Action=CreateAccessKey&UserName=lifeline");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string id =
      Text(key->root(), "CreateAccessKeyResult/AccessKey/AccessKeyId");
  const std::string secret =
      Text(key->root(), "CreateAccessKeyResult/AccessKey/SecretAccessKey");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(iam("Action=PutUserPolicy&UserName=lifeline&PolicyName=ec2&"
                  "PolicyDocument=" +
                  FormEncode(R"({"Version":"2012-10-17","Statement":[{)"
                             R"("Effect":"Allow","Action":"ec2:*",)"
                             R"("Resource":"*"}]})"))
                  .ok());
  const std::string kPolicy =
      FormEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                 R"("Action":"ec2:*","Resource":"*"}]})");
  const std::string kTrust =
      FormEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                 R"("Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]})");
  auto role =
      iam("Action=CreateRole&RoleName=ops&AssumeRolePolicyDocument=" + kTrust);
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  ASSERT_TRUE(
      iam("Action=PutRolePolicy&RoleName=ops&PolicyName=ec2&PolicyDocument=" +
          kPolicy)
          .ok());
  auto assumed =
      iam("Action=AssumeRole&RoleSessionName=lifeline&RoleArn=" +
              FormEncode(Text(role->root(), "CreateRoleResult/Role/Arn")),
          "sts", "2011-06-15");
  ASSERT_TRUE(assumed.ok()) << assumed.status().ToString();
  AwsCredentials temporary;
  temporary.access_key_id =
      Text(assumed->root(), "AssumeRoleResult/Credentials/AccessKeyId");
  temporary.secret_access_key =
      Text(assumed->root(), "AssumeRoleResult/Credentials/SecretAccessKey");
  temporary.session_token =
      Text(assumed->root(), "AssumeRoleResult/Credentials/SessionToken");
  ASSERT_FALSE(temporary.session_token.empty());

  Ec2Config good = Config();
  good.endpoint = endpoint;
  good.credentials = {id, secret, "", std::nullopt};
  Ec2Config bad = good;
  bad.credentials.secret_access_key = "not-the-secret";
  Ec2Config with_token = good;
  with_token.credentials = temporary;
  Ec2Config bad_token = with_token;
  bad_token.credentials.session_token = "forged";
  std::unique_ptr<Ec2Provider> signed_ok, signed_bad, session_ok, session_bad;
  OnLoop([&] {
    signed_ok = std::make_unique<Ec2Provider>(*loop_, good);
    signed_bad = std::make_unique<Ec2Provider>(*loop_, bad);
    session_ok = std::make_unique<Ec2Provider>(*loop_, with_token);
    session_bad = std::make_unique<Ec2Provider>(*loop_, bad_token);
  });

  // A body with every kind of character the encoder must get right.
  LaunchRequest req = Request("signed group", "tok/with:odd+chars=&");
  req.spec.tags["Note"] = "spaces, commas; quotes \"and\" ünïcödé";
  req.spec.user_data = "#!/bin/sh\necho 'a+b=c&d'\n";
  auto launched = Call<InstanceInfo>(
      [&](auto done) { signed_ok->Launch(req, std::move(done)); });
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  EXPECT_EQ(launched->group, "signed group");
  EXPECT_EQ(launched->launch_token, "tok/with:odd+chars=&");
  EXPECT_EQ(launched->tags.at("Note"), req.spec.tags["Note"]);

  Status s = CallStatus(
      [&](auto done) { signed_bad->Reboot(launched->id, std::move(done)); });
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("AuthFailure"), std::string::npos) << s.message();
  OnLoop([&] {
    signed_ok.reset();
    signed_bad.reset();
  });
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
