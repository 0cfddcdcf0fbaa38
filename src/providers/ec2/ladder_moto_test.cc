// The recovery ladder end to end: the real Controller and SafetyGovernor
// drive Ec2Provider against moto_server, and the failures are made behind
// Lifeline's back with the AWS CLI (fixture: ladder_fixture.h).
#include "providers/ec2/ladder_fixture.h"

namespace lifeline::ec2 {
namespace {

TEST_F(Ec2LadderTest, TerminatedBehindItsBackIsReplacedWithTheSameSpec) {
  Boot(WebSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(Look().stats.launches, 3u);
  WaitPastColdStart();

  const std::string victim = before.front();
  const std::string zone = Describe(victim, "Placement.AvailabilityZone");
  Aws("terminate-instances --instance-ids " + victim);

  ASSERT_TRUE(Eventually([&] {
    return Settled(3) && !LiveRunningIds().count(victim);
  })) << "the terminated instance was not replaced";
  std::vector<std::string> after = Look().healthy_active;
  std::vector<std::string> fresh;
  for (const std::string& id : after) {
    if (std::find(before.begin(), before.end(), id) == before.end()) {
      fresh.push_back(id);
    }
  }
  ASSERT_EQ(fresh.size(), 1u);
  const std::string rep = fresh.front();

  // Same spec as the instance it replaces, as EC2 recorded it.
  EXPECT_EQ(Describe(rep, "ImageId"), image_);
  EXPECT_EQ(Describe(rep, "InstanceType"), "t3.micro");
  EXPECT_EQ(Describe(rep, "SecurityGroups[0].GroupId"), sg_);
  EXPECT_EQ(Describe(rep, "Placement.AvailabilityZone"), zone);
  EXPECT_EQ(Describe(rep, "SubnetId"), zone == kZoneA ? subnet_a_ : subnet_b_);
  EXPECT_EQ(Describe(rep, "SubnetId"), Describe(victim, "SubnetId"));
  EXPECT_EQ(Describe(rep, "Tags[?Key==`team`].Value|[0]"), "payments");
  EXPECT_EQ(Describe(rep, "Tags[?Key==`lifeline:group`].Value|[0]"), "web");
  EXPECT_EQ(Describe(victim, "State.Name"), "terminated");

  View v = Look();
  EXPECT_EQ(v.stats.launches, 4u);  // exactly one replacement
  // An instance that no longer exists can only be replaced: the controller
  // drops it and restores capacity with a launch from the group's spec.
  EXPECT_TRUE(HasEvent("instance.lost", victim));
  // No resource move was attempted and failed (the instance held no
  // elastic address).
  EXPECT_FALSE(HasEvent("move.failed"));
}

TEST_F(Ec2LadderTest, StoppedBehindItsBackIsStartedAgain) {
  Boot(WebSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  WaitPastColdStart();

  const std::string victim = before.back();
  Aws("stop-instances --instance-ids " + victim);
  // The controller sees it stopped (it did not ask for that)... The
  // history is checked rather than the live view: the repair may be over
  // before a poll of the view would catch the instance down.
  ASSERT_TRUE(Eventually([&] {
    return HasEvent("instance.unhealthy", victim);
  })) << "the stop was not noticed";
  // ...and the first rung of the instance ladder starts it again: the same
  // instance, no launch.
  ASSERT_TRUE(Eventually([&] {
    return HasEvent("recovery.succeeded", victim) && Settled(3);
  })) << "expected the ladder's workflow to finish with success";
  EXPECT_EQ(Look().healthy_active, before);
  EXPECT_EQ(Describe(victim, "State.Name"), "running");
  View v = Look();
  EXPECT_EQ(v.stats.launches, 3u);
  EXPECT_GE(v.stats.reboots, 1u);  // the reboot rung starts stopped ones
  EXPECT_EQ(v.stats.terminates, 0u);
}

TEST_F(Ec2LadderTest, VolumesAreSnapshottedBeforeAReplacement) {
  // The spec asks for a snapshot of /dev/sdf before the old instance goes.
  GroupSpec spec = ReplaceFirstSpec();
  spec.launch.volumes = {{"/dev/sdf", 10, false, true}};
  Boot(spec);
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  WaitPastColdStart();

  const std::string victim = before.front();
  const std::string old_volume =
      Describe(victim,
               "BlockDeviceMappings[?DeviceName==`/dev/sdf`]"
               ".Ebs.VolumeId|[0]");
  ASSERT_EQ(old_volume.rfind("vol-", 0), 0u) << old_volume;
  Aws("stop-instances --instance-ids " + victim);

  ASSERT_TRUE(Eventually([&] {
    return Settled(3) && !LiveRunningIds().count(victim);
  })) << "the stopped instance was not replaced";
  EXPECT_EQ(Describe(victim, "State.Name"), "terminated");

  // The snapshot of the old data volume exists, is complete, and names the
  // instance it came from.
  std::string snap =
      Aws("describe-snapshots --filters Name=volume-id,Values=" + old_volume +
          " --query 'Snapshots[0].[SnapshotId,State]'");
  ASSERT_EQ(snap.rfind("snap-", 0), 0u) << snap;
  const std::string snap_id = snap.substr(0, snap.find('\t'));
  EXPECT_EQ(snap.substr(snap.find('\t') + 1), "completed");
  EXPECT_EQ(Aws("describe-snapshots --snapshot-ids " + snap_id +
                " --query 'Snapshots[0].Tags[?Key==`lifeline:instance`]"
                ".Value|[0]'"),
            victim);

  // The replacement's data volume was created from it.
  std::string rep;
  for (const std::string& id : Look().healthy_active) {
    if (std::find(before.begin(), before.end(), id) == before.end()) rep = id;
  }
  ASSERT_FALSE(rep.empty());
  std::string new_volume =
      Describe(rep,
               "BlockDeviceMappings[?DeviceName==`/dev/sdf`]"
               ".Ebs.VolumeId|[0]");
  EXPECT_EQ(Aws("describe-volumes --volume-ids " + new_volume +
                " --query Volumes[0].SnapshotId"),
            snap_id);
  EXPECT_EQ(Look().stats.launches, 4u);
}

}  // namespace
}  // namespace lifeline::ec2
