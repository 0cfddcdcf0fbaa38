#include "providers/ec2/query.h"

#include <gtest/gtest.h>

namespace lifeline::ec2 {
namespace {

TEST(Ec2Query, BodyStartsWithActionAndVersionAndKeepsParameterOrder) {
  Ec2Query q("TerminateInstances");
  q.SetList("InstanceId", {"i-1", "i-2"});
  EXPECT_EQ(q.Body("2016-11-15"),
            "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1&"
            "InstanceId.2=i-2");
}

TEST(Ec2Query, FiltersAreNumberedWithTheirValues) {
  Ec2Query q("DescribeInstances");
  q.AddFilter("tag:lifeline:group", {"web"});
  q.AddFilter("instance-state-name", {"pending", "running"});
  EXPECT_EQ(q.Get("Filter.1.Name"), "tag:lifeline:group");
  EXPECT_EQ(q.Get("Filter.1.Value.1"), "web");
  EXPECT_EQ(q.Get("Filter.2.Name"), "instance-state-name");
  EXPECT_EQ(q.Get("Filter.2.Value.2"), "running");
  EXPECT_NE(q.Body("v").find("Filter.1.Name=tag%3Alifeline%3Agroup"),
            std::string::npos);
}

TEST(Ec2Query, ReplaceOverwritesOrAppends) {
  Ec2Query q("DescribeInstances");
  q.Replace("NextToken", "a");
  q.Replace("NextToken", "b");
  EXPECT_EQ(q.params().size(), 1u);
  EXPECT_EQ(q.Get("NextToken"), "b");
  EXPECT_EQ(q.Get("Missing"), "");
}

TEST(FormEncode, KeepsUnreservedSpaceAsPlusAndPercentEncodesTheRest) {
  EXPECT_EQ(FormEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(FormEncode("a b/c+d=e&f:g"), "a+b%2Fc%2Bd%3De%26f%3Ag");
  EXPECT_EQ(FormEncode("\xc3\xa9"), "%C3%A9");
}

TEST(Base64Encode, EncodesWithPadding) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("#!/bin/sh\n"), "IyEvYmluL3NoCg==");
}

}  // namespace
}  // namespace lifeline::ec2
