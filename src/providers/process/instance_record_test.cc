#include "providers/process/instance_record.h"

#include <gtest/gtest.h>

namespace lifeline::process {
namespace {

InstanceRecord SampleRecord() {
  InstanceRecord r;
  r.id = "web-a-3";
  r.group = "web";
  r.zone = "zone-a";
  r.token = "tok-1";
  r.spec.command = "/bin/sh";
  r.spec.args = {"-c", "echo \"quoted\" $X"};
  r.spec.env = {{"X", "1"}, {"Y", "two words"}};
  r.spec.tags = {{"team", "infra"}};
  r.spec.volumes = {{"/dev/sdf", 4, true, true}};
  r.spec_hash = HashLaunch(r.group, r.zone, r.spec);
  r.data_dir = "/var/lib/lifeline/data/web-a-3";
  r.want_running = false;
  r.launched = false;
  r.pid = 4121;
  r.start_time = 18446744073709551000ull;
  ParseWallTime("2026-01-01T00:00:03.250Z", &r.launch_time);
  r.last_exit = "signal 9";
  return r;
}

TEST(InstanceRecord, SurvivesAnEncodeDecodeRoundTrip) {
  InstanceRecord r = SampleRecord();
  auto back = DecodeRecord(EncodeRecord(r), "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(InstanceRecord, RejectsDamagedTextNamingTheSource) {
  auto bad = DecodeRecord("{\"id\": \"x\"", "/state/instances/x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/state/instances/x.json"),
            std::string::npos);
  auto missing = DecodeRecord("{\"id\": \"x\"}", "/state/instances/x.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
}

TEST(HashLaunch, IsStableAndChangesWithTheRequest) {
  InstanceRecord r = SampleRecord();
  uint64_t h = HashLaunch("web", "zone-a", r.spec);
  EXPECT_EQ(h, HashLaunch("web", "zone-a", r.spec));
  EXPECT_NE(h, HashLaunch("web", "zone-b", r.spec));
  EXPECT_NE(h, HashLaunch("api", "zone-a", r.spec));
  LaunchSpec other = r.spec;
  other.args.push_back("extra");
  EXPECT_NE(h, HashLaunch("web", "zone-a", other));
}

}  // namespace
}  // namespace lifeline::process
