#include "core/status.h"

#include <gtest/gtest.h>

namespace lifeline {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, RetryableCodesAreTheTransientOnes) {
  EXPECT_TRUE(Unavailable("x").retryable());
  EXPECT_TRUE(ResourceExhausted("x").retryable());
  EXPECT_TRUE(DeadlineExceeded("x").retryable());
  EXPECT_FALSE(InvalidArgument("x").retryable());
  EXPECT_FALSE(FailedPrecondition("x").retryable());
  EXPECT_FALSE(NotFound("x").retryable());
}

TEST(Status, AnnotateKeepsCodeAndRetryHint) {
  Status s = ResourceExhausted("throttled");
  s.set_retry_after(std::chrono::milliseconds(400));
  Status a = s.Annotate("ec2: TerminateInstances(i-0abc)");
  EXPECT_EQ(a.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(a.message(), "ec2: TerminateInstances(i-0abc): throttled");
  ASSERT_TRUE(a.retry_after().has_value());
  EXPECT_EQ(*a.retry_after(), std::chrono::milliseconds(400));
}

TEST(Result, HoldsValueOrError) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(NotFound("instance i-1"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

Status FailsThenNeverReached(bool* reached) {
  LIFELINE_RETURN_IF_ERROR(Unavailable("down"));
  *reached = true;
  return Status::Ok();
}

TEST(Status, ReturnIfErrorPropagates) {
  bool reached = false;
  EXPECT_EQ(FailsThenNeverReached(&reached).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(reached);
}

}  // namespace
}  // namespace lifeline
