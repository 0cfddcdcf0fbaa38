// ProcessProvider: a launch spec may declare the root data dir (device
// "data") in its volumes, to give it properties such as
// snapshot_on_replace; it stays the data dir, never an extra volume.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "providers/process/process_provider.h"
#include "providers/process/provider_fixture.h"

namespace lifeline::process {
namespace {

namespace fs = std::filesystem;

TEST_F(ProcessProviderTest, ADataDirDeclaredInTheSpecIsTheRootVolume) {
  MakeProvider();
  // Like a group's instances: the first lifetime writes `state`; a process
  // that finds it at start (a replacement from a snapshot) copies it.
  LaunchSpec spec = Shell(
      "if [ -f state ]; then cp state inherited; else echo v1 > state; fi; "
      "exec sleep 1000");
  spec.volumes = {{"data", 8, /*detachable=*/false, /*snapshot=*/true},
                  {"/dev/sdf", 1, false, true}};
  auto old = Launch(Request(spec, "old"));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_EQ(old->volumes.size(), 2u);
  EXPECT_EQ(old->volumes[0].id, "vol-" + old->id);
  EXPECT_EQ(old->volumes[0].device, "data");
  EXPECT_EQ(old->volumes[1].device, "sdf");
  EXPECT_FALSE(fs::exists(config_.state_dir + "/attach/" + old->id + "/data"));
  EXPECT_FALSE(
      fs::exists(config_.state_dir + "/volumes/vol-" + old->id + "-data"));
  ASSERT_TRUE(WaitForFile(DataDir(old->id) + "/state"));

  // The controller's replacement: one snapshot per volume, handed to the
  // launch by device.
  auto snaps = loop_.Call<Result<std::vector<Snapshot>>>(
      [&](auto done) { provider_->SnapshotVolumes(old->id, done); });
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  ASSERT_EQ(snaps->size(), 2u);
  LaunchRequest req = Request(spec, "replacement", "zone-b");
  for (const Snapshot& s : *snaps) req.volume_snapshots[s.device] = s.id;
  EXPECT_EQ(req.volume_snapshots.count("data"), 1u);
  auto replacement = Launch(req);
  ASSERT_TRUE(replacement.ok()) << replacement.status().ToString();
  EXPECT_NE(replacement->id, old->id);
  EXPECT_EQ(replacement->volumes.size(), 2u);
  ASSERT_TRUE(WaitForFile(DataDir(replacement->id) + "/inherited"));
  EXPECT_EQ(ReadFile(DataDir(replacement->id) + "/inherited"), "v1\n");
}

TEST_F(ProcessProviderTest, ADetachableOrRepeatedDataDirIsRefusedUpFront) {
  MakeProvider();
  LaunchSpec detachable = Shell("exec sleep 1000");
  detachable.volumes = {{"/dev/sdf", 1, true, false},
                        {"data", 8, /*detachable=*/true, true}};
  auto r = Launch(Request(detachable, "detachable"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("launch.volumes[1].detachable"),
            std::string::npos)
      << r.status().ToString();

  LaunchSpec repeated = Shell("exec sleep 1000");
  repeated.volumes = {{"data", 8, false, true}, {"/dev/data", 8, false, true}};
  r = Launch(Request(repeated, "repeated"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("launch.volumes[1].device"),
            std::string::npos)
      << r.status().ToString();

  // Refused before anything was created: no record, token or instance
  // number spent, so the next launch is the first instance.
  EXPECT_TRUE(fs::is_empty(config_.state_dir + "/instances"));
  EXPECT_TRUE(fs::is_empty(config_.state_dir + "/tokens"));
  auto ok = Launch(Request(Shell("exec sleep 1000"), "detachable"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->id, "web-a-1");
}

}  // namespace
}  // namespace lifeline::process
