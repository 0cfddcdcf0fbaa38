// SimProvider: volumes, snapshots and addresses as tracked objects.
#include <gtest/gtest.h>

#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_test_util.h"

namespace lifeline {
namespace {

class SimVolumes : public sim_testing::SimTest {
 protected:
  LaunchRequest WithVolumes(const std::string& zone, const std::string& token) {
    LaunchRequest r = Request("db", zone, token);
    r.spec.volumes = {VolumeSpec{"/dev/sda1", 8, false, false},
                      VolumeSpec{"/dev/sdf", 100, true, true}};
    return r;
  }
  Status Attach(const std::string& vol, const std::string& id,
                const std::string& device) {
    std::optional<Status> got;
    sim_->AttachVolume(vol, id, device, [&](Status st) { got = st; });
    return Await(got);
  }
  Status Detach(const std::string& vol) {
    std::optional<Status> got;
    sim_->DetachVolume(vol, [&](Status st) { got = st; });
    return Await(got);
  }
  Status Move(const std::string& address, const std::string& id) {
    std::optional<Status> got;
    sim_->MoveAddress(address, id, [&](Status st) { got = st; });
    return Await(got);
  }
  Result<std::vector<Snapshot>> SnapshotOf(const std::string& id) {
    std::optional<Result<std::vector<Snapshot>>> got;
    sim_->SnapshotVolumes(
        id, [&](Result<std::vector<Snapshot>> r) { got = std::move(r); });
    return Await(got);
  }
};

TEST_F(SimVolumes, LaunchCreatesVolumesFromTheSpec) {
  Result<InstanceInfo> info = Launch(WithVolumes("sim-1a", "t"));
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->volumes.size(), 2u);
  EXPECT_EQ(info->volumes[0], (Volume{"vol-000001", "/dev/sda1", false}));
  EXPECT_EQ(info->volumes[1], (Volume{"vol-000002", "/dev/sdf", true}));
  std::optional<SimVolumeTruth> v = sim_->VolumeTruth("vol-000002");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->owner, info->id);
  EXPECT_EQ(v->zone, "sim-1a");
  EXPECT_EQ(v->size_gib, 100);
}

TEST_F(SimVolumes, SnapshotsSeedTheReplacementsVolumes) {
  // An instance with volumes, snapshotted, then replaced.
  Result<InstanceInfo> src = Launch(WithVolumes("sim-1a", "src"));
  ASSERT_TRUE(src.ok());
  MonoTime called = loop_.Now();
  Result<std::vector<Snapshot>> snaps = SnapshotOf(src->id);
  EXPECT_EQ(loop_.Now() - called, seconds(4));
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 2u);
  EXPECT_EQ((*snaps)[1].id, "snap-000002");
  EXPECT_EQ((*snaps)[1].volume_id, "vol-000002");
  EXPECT_EQ((*snaps)[1].device, "/dev/sdf");
  EXPECT_TRUE((*snaps)[1].complete);

  LaunchRequest repl = WithVolumes("sim-1a", "repl");
  repl.volume_snapshots["/dev/sdf"] = "snap-000002";
  Result<InstanceInfo> r = Launch(repl);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->volumes.size(), 2u);
  EXPECT_EQ(sim_->VolumeTruth(r->volumes[1].id)->from_snapshot, "snap-000002");
  EXPECT_EQ(sim_->VolumeTruth(r->volumes[0].id)->from_snapshot, "");

  LaunchRequest bad = WithVolumes("sim-1a", "bad");
  bad.volume_snapshots["/dev/sdf"] = "snap-000099";
  Result<InstanceInfo> b = Launch(bad);
  EXPECT_EQ(b.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b.status().message(),
            "sim: Launch(db, sim-1a): snapshot snap-000099 for /dev/sdf not "
            "found");
}

TEST_F(SimVolumes, DetachAndAttachMoveAVolumeBetweenInstances) {
  Result<InstanceInfo> a = Launch(WithVolumes("sim-1a", "a"));
  std::string b = LaunchRunning("sim-1a", "b");
  std::string c = LaunchRunning("sim-1c", "c");
  ASSERT_TRUE(a.ok());
  const std::string vol = "vol-000002";

  Status busy = Attach(vol, b, "/dev/sdf");
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(busy.message(), "sim: AttachVolume(vol-000002, " + b +
                                ", /dev/sdf): volume is attached to " + a->id);
  EXPECT_TRUE(Detach(vol).ok());
  EXPECT_TRUE(Detach(vol).ok()) << "detaching a detached volume succeeds";
  EXPECT_EQ(sim_->VolumeTruth(vol)->owner, "");
  EXPECT_EQ(sim_->VolumeIdsOf(a->id), std::vector<std::string>{"vol-000001"});

  Status other_zone = Attach(vol, c, "/dev/sdf");
  EXPECT_EQ(other_zone.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other_zone.message().find("volume is in zone sim-1a, instance in "
                                      "zone sim-1c"),
            std::string::npos);
  EXPECT_TRUE(Attach(vol, b, "/dev/sdf").ok());
  EXPECT_TRUE(Attach(vol, b, "/dev/sdf").ok()) << "repeat attach is a no-op";
  EXPECT_EQ(sim_->VolumeTruth(vol)->owner, b);
  EXPECT_EQ(sim_->VolumeIdsOf(b), std::vector<std::string>{vol});

  EXPECT_EQ(Attach("vol-000001", b, "/dev/sdf").code(),
            StatusCode::kFailedPrecondition);  // attached to a
  EXPECT_EQ(Attach("vol-000404", b, "/dev/sdg").code(), StatusCode::kNotFound);
  EXPECT_EQ(Detach("vol-000404").code(), StatusCode::kNotFound);
}

TEST_F(SimVolumes, TerminationDeletesRootVolumesAndFreesDataVolumes) {
  Result<InstanceInfo> a = Launch(WithVolumes("sim-1a", "a"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(sim_->CreateAddress("198.51.100.7", a->id).ok());
  ASSERT_TRUE(Terminate(a->id).ok());
  EXPECT_TRUE(sim_->VolumeTruth("vol-000001")->deleted);
  EXPECT_FALSE(sim_->VolumeTruth("vol-000002")->deleted);
  EXPECT_EQ(sim_->VolumeTruth("vol-000002")->owner, "");
  EXPECT_EQ(sim_->AddressOwner("198.51.100.7"), std::string());
  EXPECT_EQ(Attach("vol-000001", a->id, "/dev/sdz").code(),
            StatusCode::kNotFound);
}

TEST_F(SimVolumes, MoveAddressTakesItFromTheHolder) {
  std::string a = LaunchRunning("sim-1a", "a");
  std::string b = LaunchRunning("sim-1b", "b");
  ASSERT_TRUE(sim_->CreateAddress("203.0.113.9", a).ok());
  EXPECT_EQ(sim_->CreateAddress("203.0.113.9").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(sim_->AddressesOf(a), std::vector<std::string>{"203.0.113.9"});

  MonoTime called = loop_.Now();
  EXPECT_TRUE(Move("203.0.113.9", b).ok());
  EXPECT_EQ(loop_.Now() - called, milliseconds(500));
  EXPECT_EQ(sim_->AddressOwner("203.0.113.9"), b);
  EXPECT_TRUE(sim_->AddressesOf(a).empty());
  EXPECT_TRUE(Move("203.0.113.9", b).ok());

  std::optional<Result<std::vector<InstanceInfo>>> got;
  sim_->ListInstances(
      "web", [&](Result<std::vector<InstanceInfo>> r) { got = std::move(r); });
  Result<std::vector<InstanceInfo>> list = Await(got);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].addresses, std::vector<std::string>{"203.0.113.9"});

  Status unallocated = Move("192.0.2.1", b);
  EXPECT_EQ(unallocated.code(), StatusCode::kNotFound);
  EXPECT_EQ(unallocated.message(),
            "sim: MoveAddress(192.0.2.1, " + b + "): address not allocated");
  ASSERT_TRUE(Terminate(a).ok());
  EXPECT_EQ(Move("203.0.113.9", a).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Move("203.0.113.9", "sim-000404").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lifeline
