#include "providers/ec2/retry.h"

#include <gtest/gtest.h>

namespace lifeline::ec2 {
namespace {

TEST(MapErrorCode, ThrottlingIsResourceExhaustedAndRetriedAsRefused) {
  for (const char* code :
       {"RequestLimitExceeded", "Throttling", "ThrottlingException",
        "RequestThrottled", "TooManyRequestsException"}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(MapErrorCode(code, 503), StatusCode::kResourceExhausted);
    EXPECT_EQ(ClassifyForRetry(code, MapErrorCode(code, 503)),
              RetryKind::kThrottled);
  }
}

TEST(MapErrorCode, ServerTroubleIsUnavailableAndRetriedAsTransient) {
  for (const char* code : {"InternalError", "InternalFailure",
                           "ServiceUnavailable", "Unavailable"}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(MapErrorCode(code, 500), StatusCode::kUnavailable);
    EXPECT_EQ(ClassifyForRetry(code, StatusCode::kUnavailable),
              RetryKind::kTransient);
  }
  // An unknown code on a 5xx is treated the same way.
  EXPECT_EQ(MapErrorCode("SomethingNew", 502), StatusCode::kUnavailable);
  EXPECT_EQ(MapErrorCode("", 503), StatusCode::kUnavailable);
  EXPECT_EQ(ClassifyForRetry("", StatusCode::kDeadlineExceeded),
            RetryKind::kTransient);
}

TEST(MapErrorCode, CallerAndStateErrorsAreNotRetried) {
  struct Case {
    const char* code;
    StatusCode want;
  };
  for (Case c :
       {Case{"AuthFailure", StatusCode::kUnauthenticated},
        Case{"ExpiredToken", StatusCode::kUnauthenticated},
        Case{"UnauthorizedOperation", StatusCode::kPermissionDenied},
        Case{"InvalidInstanceID.NotFound", StatusCode::kNotFound},
        Case{"InvalidVolume.NotFound", StatusCode::kNotFound},
        Case{"InvalidAMIID.Malformed", StatusCode::kInvalidArgument},
        Case{"InvalidParameterValue", StatusCode::kInvalidArgument},
        Case{"MissingParameter", StatusCode::kInvalidArgument},
        Case{"InvalidGroup.Duplicate", StatusCode::kAlreadyExists},
        Case{"IncorrectInstanceState", StatusCode::kFailedPrecondition},
        Case{"IdempotentParameterMismatch", StatusCode::kFailedPrecondition},
        Case{"InsufficientInstanceCapacity", StatusCode::kResourceExhausted},
        Case{"InstanceLimitExceeded", StatusCode::kResourceExhausted}}) {
    SCOPED_TRACE(c.code);
    StatusCode got = MapErrorCode(c.code, 400);
    EXPECT_EQ(got, c.want);
    EXPECT_EQ(ClassifyForRetry(c.code, got), RetryKind::kNo);
  }
}

TEST(IsNotFound, MatchesResourceNotFoundCodes) {
  EXPECT_TRUE(IsNotFound("InvalidInstanceID.NotFound"));
  EXPECT_TRUE(IsNotFound("InvalidAllocationID.NotFound"));
  EXPECT_FALSE(IsNotFound("InvalidInstanceID.Malformed"));
}

TEST(BackoffDelay, GrowsExponentiallyWithJitterInsideTheCap) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = seconds(2);
  Rng rng(7);
  for (int retry = 1; retry <= 10; ++retry) {
    Duration cap =
        std::min<Duration>(milliseconds(100) * (1 << (retry - 1)), seconds(2));
    for (int i = 0; i < 50; ++i) {
      Duration d = BackoffDelay(p, retry, rng);
      ASSERT_GE(d, cap / 2) << "retry " << retry;
      ASSERT_LE(d, cap) << "retry " << retry;
    }
  }
}

TEST(BackoffDelay, IsJitteredSoCallersDoNotRetryInLockstep) {
  RetryPolicy p;
  Rng rng(1);
  Duration first = BackoffDelay(p, 3, rng);
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) {
    differs = BackoffDelay(p, 3, rng) != first;
  }
  EXPECT_TRUE(differs);
}

TEST(BackoffDelay, StaysBoundedForHugeRetryCounts) {
  RetryPolicy p;
  p.max_backoff = seconds(20);
  Rng rng(3);
  EXPECT_LE(BackoffDelay(p, 1000000, rng), seconds(20));
}

}  // namespace
}  // namespace lifeline::ec2
