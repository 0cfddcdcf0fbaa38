#include "providers/ec2/client.h"

#include <gtest/gtest.h>

#include "core/sim_loop.h"
#include "providers/ec2/fake_transport.h"

namespace lifeline::ec2 {
namespace {

constexpr char kOk[] =
    "<RebootInstancesResponse><requestId>ok-1</requestId><return>true"
    "</return></RebootInstancesResponse>";

class Ec2ClientTest : public ::testing::Test {
 protected:
  Ec2ClientTest()
      : loop_(clock_),
        script_(std::make_shared<FakeTransport::Script>()),
        client_(loop_, std::make_unique<FakeTransport>(script_), Policy(),
                "2016-11-15", 42) {}

  static RetryPolicy Policy() {
    RetryPolicy p;
    p.max_attempts = 4;
    p.initial_backoff = milliseconds(100);
    p.max_backoff = seconds(1);
    return p;
  }

  // Runs one call to completion in simulated time.
  Result<Ec2Response> Run(Ec2Query q, CallOptions o = {}) {
    std::optional<Result<Ec2Response>> got;
    client_.Call(std::move(q), "RebootInstances(i-0abc)", o,
                 [&](Result<Ec2Response> r) { got.emplace(std::move(r)); });
    loop_.RunUntilIdle();
    EXPECT_TRUE(got.has_value());
    return got ? std::move(*got) : Result<Ec2Response>(Internal("no reply"));
  }

  SimClock clock_;
  SimLoop loop_;
  std::shared_ptr<FakeTransport::Script> script_;
  Ec2Client client_;
};

TEST_F(Ec2ClientTest, DeliversOnTheLoopNeverInsideCall) {
  script_->handler = [](const std::string&) { return Xml(200, kOk); };
  bool called = false;
  client_.Call(Ec2Query("RebootInstances"), "RebootInstances(i-1)", {},
               [&](Result<Ec2Response> r) {
                 called = true;
                 EXPECT_TRUE(r.ok());
                 EXPECT_EQ(r->request_id, "ok-1");
               });
  EXPECT_FALSE(called);
  loop_.RunPosted();
  EXPECT_TRUE(called);
  ASSERT_EQ(script_->bodies.size(), 1u);
  EXPECT_EQ(script_->bodies[0], "Action=RebootInstances&Version=2016-11-15");
}

TEST_F(Ec2ClientTest, RetriesThrottlingWithGrowingBackoffThenSucceeds) {
  int n = 0;
  std::vector<MonoTime> sent;
  script_->handler = [&](const std::string&) {
    sent.push_back(loop_.Now());
    return ++n <= 2 ? ErrorXml(503, "RequestLimitExceeded",
                               "Request limit exceeded.")
                    : Xml(200, kOk);
  };
  auto r = Run(Ec2Query("RebootInstances"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(sent.size(), 3u);
  // Backoffs are in [cap/2, cap] with caps 100ms, 200ms.
  EXPECT_GE(sent[1] - sent[0], milliseconds(50));
  EXPECT_LE(sent[1] - sent[0], milliseconds(100));
  EXPECT_GE(sent[2] - sent[1], milliseconds(100));
  EXPECT_LE(sent[2] - sent[1], milliseconds(200));
}

TEST_F(Ec2ClientTest, ErrorNamesCallCodeRequestIdAndAttempts) {
  script_->handler = [](const std::string&) {
    return ErrorXml(503, "RequestLimitExceeded", "Request limit exceeded.",
                    "7a62c49f");
  };
  auto r = Run(Ec2Query("RebootInstances"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(r.status().message(),
            "ec2: RebootInstances(i-0abc): RequestLimitExceeded (request "
            "7a62c49f): Request limit exceeded. [4 attempts]");
  EXPECT_TRUE(r.status().retry_after().has_value());
  EXPECT_EQ(script_->bodies.size(), 4u);  // bounded by max_attempts
}

TEST_F(Ec2ClientTest, CallerErrorsAreNotRetried) {
  script_->handler = [](const std::string&) {
    return ErrorXml(400, "InvalidAMIID.Malformed", "Invalid id: \"x\"");
  };
  auto r = Run(Ec2Query("RunInstances"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(script_->bodies.size(), 1u);
  EXPECT_EQ(r.status().message(),
            "ec2: RebootInstances(i-0abc): InvalidAMIID.Malformed (request "
            "req-1): Invalid id: \"x\"");
}

TEST_F(Ec2ClientTest, ServerErrorsRetryOnlyWhenIdempotent) {
  script_->handler = [](const std::string&) {
    return ErrorXml(500, "InternalError", "An internal error has occurred");
  };
  CallOptions once;
  once.idempotent = false;
  auto r = Run(Ec2Query("CreateSnapshot"), once);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(script_->bodies.size(), 1u);
  script_->bodies.clear();
  r = Run(Ec2Query("RebootInstances"));
  EXPECT_EQ(script_->bodies.size(), 4u);
}

TEST_F(Ec2ClientTest, TransportFailuresAreRetriedAndNamed) {
  int n = 0;
  script_->handler = [&](const std::string&) -> Result<HttpResponse> {
    if (++n == 1) return Unavailable("POST http://x/: Connection refused");
    if (n == 2) return DeadlineExceeded("POST http://x/: Timeout was reached");
    return Xml(200, kOk);
  };
  EXPECT_TRUE(Run(Ec2Query("RebootInstances")).ok());
  EXPECT_EQ(n, 3);
  script_->handler = [](const std::string&) -> Result<HttpResponse> {
    return DeadlineExceeded("POST http://x/: Timeout was reached");
  };
  auto r = Run(Ec2Query("RebootInstances"));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(),
            "ec2: RebootInstances(i-0abc): POST http://x/: Timeout was "
            "reached [4 attempts]");
}

TEST_F(Ec2ClientTest, GatewayErrorWithoutXmlIsUnavailable) {
  script_->handler = [](const std::string&) {
    return Xml(502, "<html>Bad Gateway</html");
  };
  auto r = Run(Ec2Query("RebootInstances"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("HTTP 502"), std::string::npos);
}

TEST_F(Ec2ClientTest, NotFoundIsRetriedOnlyInsideTheConsistencyWindow) {
  script_->handler = [](const std::string&) {
    return ErrorXml(400, "InvalidInstanceID.NotFound",
                    "The instance ID 'i-0abc' does not exist");
  };
  auto r = Run(Ec2Query("RebootInstances"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(script_->bodies.size(), 1u);

  script_->bodies.clear();
  CallOptions o;
  MonoTime start = loop_.Now();
  o.retry_not_found_until = start + seconds(10);
  r = Run(Ec2Query("RebootInstances"), o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_GT(script_->bodies.size(), 4u);  // time, not attempts, bounds it
  EXPECT_GE(loop_.Now() - start, seconds(10));
  EXPECT_LE(loop_.Now() - start, seconds(12));
}

TEST_F(Ec2ClientTest, NotFoundThatClearsUpSucceeds) {
  int n = 0;
  script_->handler = [&](const std::string&) {
    return ++n < 3 ? ErrorXml(400, "InvalidInstanceID.NotFound", "not yet")
                   : Xml(200, kOk);
  };
  CallOptions o;
  o.retry_not_found_until = loop_.Now() + seconds(60);
  EXPECT_TRUE(Run(Ec2Query("RebootInstances"), o).ok());
  EXPECT_EQ(n, 3);
}

TEST_F(Ec2ClientTest, PagesThroughNextTokens) {
  script_->handler = [](const std::string& body) {
    std::string page = body.find("NextToken=t2") != std::string::npos   ? "3"
                       : body.find("NextToken=t1") != std::string::npos ? "2"
                                                                        : "1";
    std::string next = page == "1" ? "t1" : page == "2" ? "t2" : "";
    return Xml(200, "<DescribeInstancesResponse><requestId>p" + page +
                        "</requestId><nextToken>" + next +
                        "</nextToken></DescribeInstancesResponse>");
  };
  std::vector<std::string> pages;
  std::optional<Status> result;
  Ec2Query q("DescribeInstances");
  q.Set("MaxResults", "5");
  client_.CallPaged(
      q, "DescribeInstances", {},
      [&](const Ec2Response& r) { pages.push_back(r.request_id); },
      [&](Status s) { result = s; });
  loop_.RunUntilIdle();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(pages, (std::vector<std::string>{"p1", "p2", "p3"}));
  ASSERT_EQ(script_->bodies.size(), 3u);
  EXPECT_EQ(script_->bodies[2],
            "Action=DescribeInstances&Version=2016-11-15&MaxResults=5&"
            "NextToken=t2");
}

TEST_F(Ec2ClientTest, RepeatedNextTokenStopsPaging) {
  script_->handler = [](const std::string&) {
    return Xml(200,
               "<DescribeInstancesResponse><nextToken>same</nextToken>"
               "</DescribeInstancesResponse>");
  };
  std::optional<Status> result;
  client_.CallPaged(
      Ec2Query("DescribeInstances"), "DescribeInstances", {},
      [](const Ec2Response&) {}, [&](Status s) { result = s; });
  loop_.RunUntilIdle();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kInternal);
  EXPECT_EQ(script_->bodies.size(), 2u);
}

TEST_F(Ec2ClientTest, PagingStopsAtTheFirstError) {
  int n = 0;
  script_->handler = [&](const std::string&) {
    return ++n == 1 ? Xml(200,
                          "<DescribeInstancesResponse><nextToken>t1"
                          "</nextToken></DescribeInstancesResponse>")
                    : ErrorXml(403, "UnauthorizedOperation",
                               "You are not "
                               "authorized to perform this operation.");
  };
  std::optional<Status> result;
  int pages = 0;
  client_.CallPaged(
      Ec2Query("DescribeInstances"), "DescribeInstances", {},
      [&](const Ec2Response&) { ++pages; }, [&](Status s) { result = s; });
  loop_.RunUntilIdle();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(pages, 1);
}

TEST(Ec2Client, DestroyingTheClientDropsPendingRetries) {
  SimClock clock;
  SimLoop loop(clock);
  auto script = std::make_shared<FakeTransport::Script>();
  script->handler = [](const std::string&) {
    return ErrorXml(503, "RequestLimitExceeded", "slow down");
  };
  bool called = false;
  {
    Ec2Client client(loop, std::make_unique<FakeTransport>(script), {},
                     "2016-11-15", 1);
    client.Call(Ec2Query("RebootInstances"), "RebootInstances(i-1)", {},
                [&](Result<Ec2Response>) { called = true; });
    loop.RunPosted();  // the first reply arrives; a retry timer is armed
  }
  loop.RunUntilIdle();
  EXPECT_FALSE(called);
  EXPECT_EQ(script->bodies.size(), 1u);
}

}  // namespace
}  // namespace lifeline::ec2
