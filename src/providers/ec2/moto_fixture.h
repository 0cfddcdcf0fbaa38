// Ec2MotoTest: the fixture of the EC2 end-to-end tests. The suite starts
// moto_server (a real EC2 Query API emulator) on a free loopback port and
// resets it before every test; each test gets a RealLoop on its own thread
// and an Ec2Provider pointed at moto, and calls the provider on the loop
// thread, waiting for completions with deadlines. Skips only when
// moto_server (or the AWS CLI, used to act behind the provider's back) is
// not installed.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "core/real_loop.h"
#include "providers/ec2/ec2_provider.h"
#include "providers/ec2/moto_server.h"

namespace lifeline::ec2 {

inline constexpr char kRegion[] = "us-east-1";

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
    if (!skip_.empty())
      GTEST_SKIP() << "EC2 end-to-end tests skipped: " << skip_;
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
    auto out = AwsCli(server_->endpoint(), kRegion, args);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : out.status().message();
  }

  static inline MotoServer* server_ = nullptr;  // one per test binary
  static inline std::string skip_;
  static inline std::string start_error_;

  RealClock clock_;
  std::unique_ptr<RealLoop> loop_;
  std::thread loop_thread_;
  std::unique_ptr<Ec2Provider> provider_;
  std::unique_ptr<Ec2Provider> other_;  // a second provider (adoption)
  std::string image_;
};

}  // namespace lifeline::ec2
