#include "providers/ec2/xml.h"

#include <gtest/gtest.h>

namespace lifeline::ec2 {
namespace {

pugi::xml_node Root(const Result<Ec2Response>& r) { return r->root(); }

constexpr char kDescribeInstances[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <instancesSet>
        <item>
          <instanceId>i-0aaa</instanceId>
          <imageId>ami-0abc</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <placement><availabilityZone>us-east-1b</availabilityZone>
            <tenancy>default</tenancy></placement>
          <ipAddress>54.1.2.3</ipAddress>
          <launchTime>2026-01-02T03:04:05.000Z</launchTime>
          <clientToken>tok-a</clientToken>
          <rootDeviceType>ebs</rootDeviceType>
          <rootDeviceName>/dev/xvda</rootDeviceName>
          <blockDeviceMapping>
            <item><deviceName>/dev/xvda</deviceName>
              <ebs><volumeId>vol-root</volumeId>
                <deleteOnTermination>true</deleteOnTermination></ebs></item>
            <item><deviceName>/dev/sdf</deviceName>
              <ebs><volumeId>vol-data</volumeId>
                <deleteOnTermination>false</deleteOnTermination></ebs></item>
          </blockDeviceMapping>
          <tagSet>
            <item><key>lifeline:group</key><value>web</value></item>
            <item><key>lifeline:token</key><value>web-7</value></item>
            <item><key>Name</key><value>web-7</value></item>
          </tagSet>
        </item>
        <item>
          <instanceId>i-0bbb</instanceId>
          <instanceState><code>32</code><name>shutting-down</name></instanceState>
          <rootDeviceType>instance-store</rootDeviceType>
          <clientToken>tok-b</clientToken>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>page-2</nextToken>
</DescribeInstancesResponse>)";

TEST(Ec2Xml, ParsesDescribeInstancesIntoInstanceInfo) {
  auto doc = ParseDocument(kDescribeInstances);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->request_id, "8f7724cf-496f-496e-8fe3-example");
  EXPECT_EQ(NextToken(Root(doc)), "page-2");
  std::vector<Ec2Instance> got = ParseInstances(Root(doc));
  ASSERT_EQ(got.size(), 2u);
  const InstanceInfo& a = got[0].info;
  EXPECT_EQ(a.id, "i-0aaa");
  EXPECT_EQ(a.zone, "us-east-1b");
  EXPECT_EQ(a.lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(a.group, "web");
  EXPECT_EQ(a.launch_token, "web-7");
  EXPECT_EQ(a.tags.at("Name"), "web-7");
  // The public IP may be auto-assigned: only DescribeAddresses says which
  // addresses are elastic (movable), so none are listed from here.
  EXPECT_TRUE(a.addresses.empty());
  EXPECT_EQ(got[0].public_ip, "54.1.2.3");
  ASSERT_EQ(a.volumes.size(), 2u);
  EXPECT_EQ(a.volumes[0], (Volume{"vol-root", "/dev/xvda", false}));
  EXPECT_EQ(a.volumes[1], (Volume{"vol-data", "/dev/sdf", true}));
  EXPECT_EQ(FormatWallTime(a.launch_time), "2026-01-02T03:04:05.000Z");
  EXPECT_EQ(got[0].root_device_type, "ebs");
  // Shutting down never comes back: terminated for Lifeline's purposes.
  EXPECT_EQ(got[1].info.lifecycle, Lifecycle::kTerminated);
  EXPECT_EQ(got[1].state_name, "shutting-down");
  EXPECT_EQ(got[1].info.launch_token, "tok-b");  // falls back to clientToken
}

TEST(Ec2Xml, ParsesRunInstancesInstancesSet) {
  auto doc = ParseDocument(R"(<RunInstancesResponse>
      <requestId>r1</requestId><reservationId>r-1</reservationId>
      <instancesSet><item><instanceId>i-new</instanceId>
        <instanceState><code>0</code><name>pending</name></instanceState>
        <placement><availabilityZone>us-east-1a</availabilityZone></placement>
      </item></instancesSet></RunInstancesResponse>)");
  ASSERT_TRUE(doc.ok());
  auto got = ParseInstances(Root(doc));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].info.id, "i-new");
  EXPECT_EQ(got[0].info.lifecycle, Lifecycle::kPending);
  EXPECT_EQ(NextToken(Root(doc)), "");
}

TEST(Ec2Xml, ParsesInstanceStatusChecks) {
  auto doc = ParseDocument(R"(<DescribeInstanceStatusResponse>
    <requestId>r2</requestId><instanceStatusSet>
    <item><instanceId>i-1</instanceId>
      <instanceState><code>16</code><name>running</name></instanceState>
      <systemStatus><status>impaired</status></systemStatus>
      <instanceStatus><status>ok</status></instanceStatus></item>
    <item><instanceId>i-2</instanceId>
      <instanceState><code>80</code><name>stopped</name></instanceState>
      <systemStatus><status>not-applicable</status></systemStatus>
      <instanceStatus><status>initializing</status></instanceStatus></item>
    </instanceStatusSet></DescribeInstanceStatusResponse>)");
  ASSERT_TRUE(doc.ok());
  auto got = ParseInstanceStatuses(Root(doc));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "i-1");
  EXPECT_EQ(got[0].lifecycle, Lifecycle::kRunning);
  EXPECT_EQ(got[0].system_check, CheckState::kImpaired);
  EXPECT_EQ(got[0].instance_check, CheckState::kOk);
  EXPECT_EQ(got[1].lifecycle, Lifecycle::kStopped);
  EXPECT_EQ(got[1].system_check, CheckState::kUnknown);
  EXPECT_EQ(got[1].instance_check, CheckState::kInitializing);
}

TEST(Ec2Xml, ParsesErrorDocumentWithCodeMessageAndRequestId) {
  auto doc = ParseDocument(R"(<?xml version="1.0" encoding="UTF-8"?>
    <Response><Errors><Error><Code>RequestLimitExceeded</Code>
    <Message>Request limit exceeded.</Message></Error></Errors>
    <RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>)");
  ASSERT_TRUE(doc.ok());
  Ec2Error e;
  ASSERT_TRUE(ParseError(Root(doc), &e));
  EXPECT_EQ(e.code, "RequestLimitExceeded");
  EXPECT_EQ(e.message, "Request limit exceeded.");
  EXPECT_EQ(e.request_id, "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");
  EXPECT_EQ(doc->request_id, e.request_id);
}

TEST(Ec2Xml, SuccessDocumentIsNoError) {
  auto doc = ParseDocument(
      "<RebootInstancesResponse><requestId>x</requestId>"
      "<return>true</return></RebootInstancesResponse>");
  ASSERT_TRUE(doc.ok());
  Ec2Error e;
  EXPECT_FALSE(ParseError(Root(doc), &e));
}

TEST(Ec2Xml, NonXmlBodyIsInternalError) {
  auto doc = ParseDocument("<html><body>Bad Gateway");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(ParseDocument("").ok());
}

TEST(Ec2Xml, NamespacePrefixesDoNotMatter) {
  auto doc = ParseDocument(
      R"(<ec2:DescribeAvailabilityZonesResponse xmlns:ec2="http://ec2.amazonaws.com/doc/2016-11-15/">
      <ec2:availabilityZoneInfo>
        <ec2:item><ec2:zoneName>eu-west-1a</ec2:zoneName>
          <ec2:zoneState>available</ec2:zoneState></ec2:item>
        <ec2:item><ec2:zoneName>eu-west-1b</ec2:zoneName>
          <ec2:zoneState>impaired</ec2:zoneState></ec2:item>
      </ec2:availabilityZoneInfo></ec2:DescribeAvailabilityZonesResponse>)");
  ASSERT_TRUE(doc.ok());
  auto zones = ParseZones(Root(doc));
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].name, "eu-west-1a");
  EXPECT_TRUE(zones[0].available);
  EXPECT_FALSE(zones[1].available);
}

TEST(Ec2Xml, ParsesVolumesSnapshotsAndAddresses) {
  auto vols = ParseDocument(R"(<DescribeVolumesResponse><volumeSet><item>
      <volumeId>vol-1</volumeId><status>in-use</status><attachmentSet><item>
      <volumeId>vol-1</volumeId><instanceId>i-1</instanceId>
      <device>/dev/sdf</device><status>attached</status></item>
      </attachmentSet></item></volumeSet></DescribeVolumesResponse>)");
  ASSERT_TRUE(vols.ok());
  auto v = ParseVolumes(Root(vols));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].id, "vol-1");
  EXPECT_EQ(v[0].state, "in-use");
  EXPECT_EQ(v[0].instance_id, "i-1");
  EXPECT_EQ(v[0].device, "/dev/sdf");
  EXPECT_EQ(v[0].attach_state, "attached");

  auto snaps = ParseDocument(R"(<DescribeSnapshotsResponse><snapshotSet>
      <item><snapshotId>snap-1</snapshotId><volumeId>vol-1</volumeId>
      <status>pending</status><tagSet><item><key>lifeline:device</key>
      <value>/dev/sdf</value></item></tagSet></item>
      </snapshotSet></DescribeSnapshotsResponse>)");
  ASSERT_TRUE(snaps.ok());
  auto s = ParseSnapshots(Root(snaps));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].id, "snap-1");
  EXPECT_EQ(s[0].state, "pending");
  EXPECT_EQ(s[0].device, "/dev/sdf");

  auto addrs = ParseDocument(R"(<DescribeAddressesResponse><addressesSet>
      <item><publicIp>198.51.100.7</publicIp><allocationId>eipalloc-1</allocationId>
      <domain>vpc</domain><instanceId>i-1</instanceId>
      <associationId>eipassoc-1</associationId></item>
      </addressesSet></DescribeAddressesResponse>)");
  ASSERT_TRUE(addrs.ok());
  auto a = ParseAddresses(Root(addrs));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].public_ip, "198.51.100.7");
  EXPECT_EQ(a[0].instance_id, "i-1");
  EXPECT_EQ(a[0].association_id, "eipassoc-1");
  EXPECT_EQ(a[0].domain, "vpc");
}

TEST(Ec2Xml, InstanceStatesMapOntoLifecycle) {
  Lifecycle l;
  ASSERT_TRUE(ParseInstanceState("stopping", &l));
  EXPECT_EQ(l, Lifecycle::kStopping);
  ASSERT_TRUE(ParseInstanceState("terminated", &l));
  EXPECT_EQ(l, Lifecycle::kTerminated);
  EXPECT_FALSE(ParseInstanceState("rebooting", &l));
}

TEST(Ec2Xml, ExtractsIdsFromNotFoundMessages) {
  EXPECT_EQ(IdsInNotFoundMessage("The instance ID 'i-0abc' does not exist"),
            std::vector<std::string>{"i-0abc"});
  EXPECT_EQ(IdsInNotFoundMessage("The instance IDs 'i-1, i-2' do not exist"),
            (std::vector<std::string>{"i-1", "i-2"}));
  EXPECT_TRUE(IdsInNotFoundMessage("no quotes here").empty());
}

}  // namespace
}  // namespace lifeline::ec2
