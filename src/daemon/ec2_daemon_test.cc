// The real lifelined with `provider: ec2` against moto_server (an EC2 API
// emulator), failures made behind its back with the AWS CLI: it brings a
// group to capacity and replaces an instance terminated under it; a stopped
// instance climbs the instance ladder and is started again; a restart (on
// its state dir or a fresh one) adopts the group without duplicates and
// keeps the group's own address where it is; a lost instance's elastic
// address goes to the instance that restores the capacity; and a replace
// rung snapshots the data volume first and moves the address to the
// replacement. Results are read through the HTTP API, the lifeline CLI and
// the AWS CLI. Waits are bounded polls of observable state. Skips only
// where moto_server or the AWS CLI is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "daemon/lifelined_process.h"
#include "providers/ec2/http.h"
#include "providers/ec2/moto_server.h"

namespace lifeline {
namespace {

using nlohmann::json;

constexpr char kRegion[] = "us-east-1";
constexpr char kZoneA[] = "us-east-1a";
constexpr char kZoneB[] = "us-east-1b";

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class Ec2DaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ec2::FindOnPath("aws").empty()) {
      skip_ = "the AWS CLI (aws) is not on PATH";
      return;
    }
    auto m = ec2::MotoServer::Start(seconds(60));
    if (m.ok()) {
      moto_ = std::move(m).value().release();
    } else if (m.status().code() == StatusCode::kNotFound) {
      skip_ = m.status().message();
    } else {
      start_error_ = m.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) {
      GTEST_SKIP() << "lifelined on the EC2 emulator skipped: " << skip_;
    }
    ASSERT_NE(moto_, nullptr) << start_error_;
    ASSERT_TRUE(moto_->Reset().ok());
    dir_ = ::testing::TempDir() + "/ec2_daemon_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = FreeLoopbackPort();
    ASSERT_GT(port_, 0);
    image_ =
        Aws("describe-images --owners amazon --filters "
            "Name=root-device-type,Values=ebs --query Images[0].ImageId");
    ASSERT_EQ(image_.rfind("ami-", 0), 0u) << image_;
    // A VPC with a subnet per zone and a security group, as in
    // src/providers/ec2/ladder_fixture.h (elastic addresses are VPC ones).
    vpc_ = Aws("create-vpc --cidr-block 10.7.0.0/16 --query Vpc.VpcId");
    subnet_a_ = Aws("create-subnet --vpc-id " + vpc_ +
                    " --cidr-block 10.7.1.0/24 --availability-zone " + kZoneA +
                    " --query Subnet.SubnetId");
    subnet_b_ = Aws("create-subnet --vpc-id " + vpc_ +
                    " --cidr-block 10.7.2.0/24 --availability-zone " + kZoneB +
                    " --query Subnet.SubnetId");
    sg_ =
        Aws("create-security-group --group-name lifeline-web --description "
            "web --vpc-id " +
            vpc_ + " --query GroupId");
    ASSERT_EQ(sg_.rfind("sg-", 0), 0u) << sg_;
    ASSERT_EQ(subnet_b_.rfind("subnet-", 0), 0u) << subnet_b_;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::ifstream log(dir_ + "/lifelined.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      std::printf("--- lifelined.log ---\n%s\n", text.c_str());
    }
    StopDaemon(SIGKILL);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Aws(const std::string& args) {
    auto out = ec2::AwsCli(moto_->endpoint(), kRegion, args);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }

  // The instance ladder of the group: examples/ec2-moto.yaml's (a stopped
  // instance is started again by the reboot rung, then replaced), or a
  // replace rung alone with /dev/sdf snapshotted before the old one goes.
  enum class Ladder { kRebootThenReplace, kReplaceWithSnapshot };

  // Mirrors examples/ec2-moto.yaml, with shorter timings for a test, the
  // fixture's subnets and security group, and the inventory refresh every
  // second (it learns addresses associated after launch). `state` is the
  // state dir, under the test's dir.
  void WriteConfig(Ladder ladder = Ladder::kRebootThenReplace,
                   const std::string& state = "state") {
    config_ = dir_ + "/lifeline.yaml";
    state_dir_ = dir_ + "/" + state;
    std::ofstream f(config_);
    f << "daemon: {state_dir: " << state_dir_ << ", systemd_notify: false}\n"
      << "api: {listen: 127.0.0.1:" << port_ << "}\n"
      << "provider:\n  kind: ec2\n"
      << "  ec2: {region: " << kRegion << ", endpoint: " << moto_->endpoint()
      << "}\n"
      << "controller: {status_poll_interval: 500ms, reconcile_interval: 2s,\n"
      << "             inventory_interval: 1s, recovery_stable: 2s}\n"
      << "safety: {cold_start_grace: 3s}\n"
      << "groups:\n  - name: web\n    desired: 3\n    max: 6\n"
      << "    zones: [" << kZoneA << ", " << kZoneB << "]\n";
    if (!group_address_.empty()) {
      f << "    addresses: [" << group_address_ << "]\n";
    }
    f << "    launch:\n      image: " << image_ << "\n"
      << "      instance_type: t3.micro\n"
      << "      security_groups: [" << sg_ << "]\n"
      << "      subnets: {" << kZoneA << ": " << subnet_a_ << ", " << kZoneB
      << ": " << subnet_b_ << "}\n"
      << "      tags: {team: payments}\n";
    if (ladder == Ladder::kReplaceWithSnapshot) {
      f << "      volumes:\n        - {device: /dev/sdf, size_gib: 10, "
           "snapshot_on_replace: true}\n";
    }
    f << "    grace_period: 5s\n"
      << "    checks: {system: true, instance: true, application: false}\n"
      << "    ladder:\n      instance:\n";
    if (ladder == Ladder::kRebootThenReplace) {
      f << "        - {action: reboot, max_attempts: 1, timeout: 30s}\n";
    }
    f << "        - {action: replace, max_attempts: 3, timeout: 1m}\n"
      << "    replacement_timeout: 1m\n";
  }

  void StartDaemon() {
    // Credentials as an operator would export them for the emulator.
    pid_ = SpawnLifelined(config_, dir_ + "/lifelined.log",
                          {{"AWS_ACCESS_KEY_ID", "test"},
                           {"AWS_SECRET_ACCESS_KEY", "test"},
                           {"AWS_SESSION_TOKEN", nullptr},
                           {"AWS_PROFILE", nullptr},
                           {"AWS_EC2_METADATA_DISABLED", "true"}});
    ASSERT_GT(pid_, 0);
  }
  void StopDaemon(int sig) { StopLifelined(pid_, sig); }
  bool DaemonAlive() {
    return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
  }

  // GET on the API with the admin token: the body, or "" on any failure.
  std::string Fetch(const std::string& path) {
    std::ifstream t(state_dir_ + "/admin.token");
    std::string token;
    t >> token;
    if (token.empty()) return "";
    ec2::HttpRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.headers = {"Authorization: Bearer " + token};
    req.timeout = seconds(5);
    auto r = http_.Perform(req);
    return r.ok() && r->status == 200 ? r->body : "";
  }
  // The same, parsed; null JSON on any failure.
  json Get(const std::string& path) {
    std::string body = Fetch(path);
    return body.empty() ? json() : json::parse(body, nullptr, false);
  }

  // The group's instances as the API lists them.
  std::map<std::string, json> Instances() {
    std::map<std::string, json> out;
    json j = Get("/v1/instances?group=web");
    if (!j.is_object() || !j["instances"].is_array()) return out;
    for (const json& i : j["instances"]) out[i["id"]] = i;
    return out;
  }
  // The controller has adopted the group and has its first full view.
  bool Ready() {
    json j = Get("/v1/status");
    return j.is_object() && j.value("ready", false);
  }
  // `n` active, running, healthy instances and nothing else, no workflow.
  bool Whole(size_t n) {
    auto all = Instances();
    if (all.size() != n) return false;
    for (const auto& [id, i] : all) {
      if (i["role"] != "active" || i["lifecycle"] != "running" ||
          i["health"] != "healthy" || !i["workflow"].is_null()) {
        return false;
      }
    }
    return true;
  }

  template <class Pred>
  bool WaitFor(Pred pred, Duration limit) {
    return PollUntil(clock_, pred, limit, milliseconds(200),
                     [&] { return DaemonAlive(); });
  }

  // Runs the lifeline CLI; returns its stdout.
  std::string Cli(const std::string& args) {
    std::string cmd = std::string(LIFELINE_CLI_PATH) +
                      " --endpoint http://127.0.0.1:" + std::to_string(port_) +
                      " --state-dir " + state_dir_ + " " + args;
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << cmd << "\n" << out;
    return out;
  }

  std::set<std::string> Ids() {
    std::set<std::string> ids;
    for (const auto& [id, i] : Instances()) ids.insert(id);
    return ids;
  }
  // Starts lifelined and waits until the group is whole and the controller
  // has its first full view (past the short cold-start grace by then);
  // returns the group's instance ids ({} after a failure).
  std::set<std::string> StartWhole() {
    StartDaemon();
    EXPECT_TRUE(WaitFor([&] { return Whole(3); }, seconds(120)))
        << "the group did not reach 3 healthy instances: "
        << Get("/v1/instances?group=web").dump();
    EXPECT_TRUE(WaitFor([&] { return Ready(); }, seconds(30)));
    return HasFailure() ? std::set<std::string>{} : Ids();
  }

  std::string Describe(const std::string& id, const std::string& query) {
    return Aws("describe-instances --instance-ids " + id +
               " --query 'Reservations[0].Instances[0]." + query + "'");
  }
  // Instances tagged with the group in EC2 that are not terminated: what
  // a duplicate launch would add to.
  std::string TaggedLive() {
    return Aws(
        "describe-instances --filters Name=tag:lifeline:group,Values=web "
        "Name=instance-state-name,Values=pending,running,stopping,stopped "
        "--query 'length(Reservations[].Instances[])'");
  }
  std::string AddressHolder(const std::string& ip) {
    return Aws("describe-addresses --public-ips " + ip +
               " --query Addresses[0].InstanceId");
  }
  // The events of `instance` whose type starts with `type`, oldest first.
  json Events(const std::string& instance, const std::string& type = "") {
    json j = Get("/v1/events?instance=" + instance + "&type=" + type);
    return j.is_object() && j["events"].is_array() ? j["events"] : json();
  }
  bool HasEvent(const std::string& instance, const std::string& type) {
    for (const json& e : Events(instance, type)) {
      if (e["type"] == type) return true;
    }
    return false;
  }
  // lifeline_provider_calls_total{what="started"} from /metrics; -1 if
  // it cannot be read. Every status poll is one more call.
  double ProviderCallsStarted() {
    const std::string text = Fetch("/metrics");
    const std::string key = "lifeline_provider_calls_total{what=\"started\"}";
    size_t at = text.find(key);
    return at == std::string::npos
               ? -1
               : std::strtod(text.c_str() + at + key.size(), nullptr);
  }
  // The one instance of the group not in `before`, or "".
  std::string NewcomerTo(const std::set<std::string>& before) {
    std::string fresh;
    for (const std::string& id : Ids()) {
      if (!before.count(id)) fresh = id;
    }
    return fresh;
  }
  // Allocates an elastic address, associates it with `id` behind
  // lifelined's back, and waits until the inventory refresh has learned it.
  std::string AssociateNewAddress(const std::string& id) {
    const std::string ip =
        Aws("allocate-address --domain vpc --query PublicIp");
    Aws("associate-address --instance-id " + id + " --public-ip " + ip);
    EXPECT_EQ(AddressHolder(ip), id);
    EXPECT_TRUE(WaitFor(
        [&] { return Get("/v1/instances/" + id)["addresses"] == json{ip}; },
        seconds(30)))
        << "lifelined did not learn " << ip << ": "
        << Get("/v1/instances/" + id).dump();
    return ip;
  }
  // An address moves once the instance taking it is ready, which can be
  // just after the group looks whole: waits for EC2 and lifelined to agree
  // that `id` holds `ip`.
  void ExpectHeldBy(const std::string& ip, const std::string& id) {
    std::string holder;
    EXPECT_TRUE(WaitFor(
        [&] {
          holder = AddressHolder(ip);
          return holder == id &&
                 Get("/v1/instances/" + id)["addresses"] == json{ip};
        },
        seconds(30)))
        << ip << " is held by '" << holder << "', not by " << id << ": "
        << Get("/v1/instances/" + id).dump();
  }
  // Requests moto has answered so far (its werkzeug log has a line per
  // request): the AWS CLI's one each, lifelined's status polls, inventory
  // listings and actions.
  static size_t MotoRequests() {
    const std::string out = moto_->Output();
    size_t n = 0;
    for (size_t at = out.find("\"POST / HTTP"); at != std::string::npos;
         at = out.find("\"POST / HTTP", at + 1)) {
      ++n;
    }
    return n;
  }
  // Checks, while lifelined sends at least `requests` requests of its own to
  // EC2 (at 500 ms status polls and 1 s inventory listings, several of each
  // and more than one reconcile pass), that EC2 never holds more than the
  // group's 3 live instances and the API never lists more.
  void ExpectNoDuplicatesOver(size_t requests) {
    size_t mine = 0;  // the AWS CLI's requests among them
    const size_t start = MotoRequests();
    ASSERT_TRUE(WaitFor(
        [&] {
          EXPECT_EQ(TaggedLive(), "3");
          ++mine;
          EXPECT_LE(Instances().size(), 3u);
          return MotoRequests() >= start + mine + requests;
        },
        seconds(60)))
        << "lifelined sent fewer than " << requests << " requests to EC2";
  }

  static inline ec2::MotoServer* moto_ = nullptr;
  static inline std::string skip_;
  static inline std::string start_error_;

  RealClock clock_;
  ec2::CurlHttp http_;
  std::string dir_, config_, state_dir_, image_;
  std::string vpc_, subnet_a_, subnet_b_, sg_;
  std::string group_address_;  // groups[].addresses, if set
  int port_ = -1;
  pid_t pid_ = -1;
};

TEST_F(Ec2DaemonTest, ReplacesAnInstanceTerminatedBehindItsBack) {
  WriteConfig();
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Whole(3); }, seconds(120)))
      << "the group did not reach 3 healthy instances: "
      << Get("/v1/instances?group=web").dump();
  std::set<std::string> before;
  for (const auto& [id, i] : Instances()) before.insert(id);
  // What EC2 holds is what lifelined reports.
  EXPECT_EQ(Aws("describe-instances --filters Name=tag:lifeline:group,"
                "Values=web Name=instance-state-name,Values=running "
                "--query 'length(Reservations[].Instances[])'"),
            "3");

  // Past the cold-start grace (the API's status says when the first full
  // view is in), an instance is terminated behind lifelined's back.
  ASSERT_TRUE(WaitFor([&] { return Ready(); }, seconds(30)));
  const std::string victim = *before.begin();
  Aws("terminate-instances --instance-ids " + victim);

  ASSERT_TRUE(WaitFor(
      [&] {
        auto now = Instances();
        return Whole(3) && !now.count(victim);
      },
      seconds(120)))
      << "not replaced: " << Get("/v1/instances?group=web").dump();
  std::string fresh;
  for (const auto& [id, i] : Instances()) {
    if (!before.count(id)) fresh = id;
  }
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(Aws("describe-instances --instance-ids " + fresh +
                " --query 'Reservations[0].Instances[0].[ImageId,"
                "InstanceType,State.Name]'"),
            image_ + "\tt3.micro\trunning");
  EXPECT_EQ(Aws("describe-instances --instance-ids " + victim +
                " --query 'Reservations[0].Instances[0].State.Name'"),
            "terminated");

  // The CLI shows the new instance, healthy.
  json listed =
      json::parse(Cli("instances list --group web -o json"), nullptr, false);
  ASSERT_TRUE(listed.is_object()) << listed.dump();
  bool seen = false;
  for (const json& i : listed["instances"]) {
    EXPECT_NE(i["id"], victim);
    if (i["id"] == fresh) {
      seen = true;
      EXPECT_EQ(i["health"], "healthy");
      EXPECT_EQ(i["role"], "active");
    }
  }
  EXPECT_TRUE(seen) << listed.dump();
  EXPECT_NE(Cli("instances list --group web").find(fresh), std::string::npos);

  // The history says why.
  json lost = Get("/v1/events?instance=" + victim);
  EXPECT_NE(lost.dump().find("instance.lost"), std::string::npos)
      << lost.dump();
  StopDaemon(SIGTERM);
}

// The instance ladder through the daemon: a stop nobody asked for is an
// instance failure, and the first rung ("reboot", which starts a stopped
// instance) brings the same instance back; nothing is launched.
TEST_F(Ec2DaemonTest, StartsAnInstanceStoppedBehindItsBack) {
  WriteConfig();
  const std::set<std::string> before = StartWhole();
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = *before.rbegin();
  Aws("stop-instances --instance-ids " + victim);

  // The history rather than the live view: the repair may be over before
  // a poll of the view would catch the instance down.
  ASSERT_TRUE(WaitFor(
      [&] {
        return HasEvent(victim, "recovery.succeeded") && Whole(3) &&
               Ids() == before;
      },
      seconds(120)))
      << "not started again: " << Events(victim).dump();
  EXPECT_EQ(Describe(victim, "State.Name"), "running");
  EXPECT_EQ(TaggedLive(), "3");

  // The ladder, as the history tells it: seen down, the reboot rung chosen
  // and approved, the same instance healthy again.
  std::vector<std::string> types;
  std::string plan;
  for (const json& e : Events(victim)) {
    types.push_back(e["type"]);
    if (e["type"] == "recovery.started") plan = e["message"];
  }
  for (const char* type : {"instance.unhealthy", "recovery.started",
                           "recovery.approved", "recovery.succeeded"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end())
        << type << " missing: " << Events(victim).dump();
  }
  EXPECT_NE(plan.find("plan: reboot (rung 1 of 2)"), std::string::npos) << plan;
  const json stats = Get("/v1/status")["stats"];
  EXPECT_EQ(stats["launches"], 3) << stats.dump();
  EXPECT_EQ(stats["terminates"], 0) << stats.dump();
  EXPECT_GE(stats["reboots"].get<int>(), 1) << stats.dump();
  // The CLI reads the same history.
  EXPECT_NE(Cli("events --instance " + victim + " --type recovery.")
                .find("recovery.succeeded"),
            std::string::npos);
  StopDaemon(SIGTERM);
}

// lifelined stopped with SIGTERM and started again on its state dir, then
// on a fresh state dir (a lost disk, a second controller): both times it
// adopts the group it finds by its lifeline:group tag and launches nothing.
// The address the group owns (groups[].addresses) is attached to one of its
// instances and stays there.
TEST_F(Ec2DaemonTest, RestartAdoptsTheGroupWithoutDuplicates) {
  group_address_ = Aws("allocate-address --domain vpc --query PublicIp");
  WriteConfig();
  const std::set<std::string> group = StartWhole();
  ASSERT_EQ(group.size(), 3u);
  std::string holder;
  ASSERT_TRUE(WaitFor(
      [&] {
        holder = AddressHolder(group_address_);
        return group.count(holder) > 0;
      },
      seconds(30)))
      << "the group's address is held by '" << holder << "'";

  for (const char* state : {"state", "fresh-state"}) {
    SCOPED_TRACE(std::string("restarted on ") + state);
    StopDaemon(SIGTERM);
    WriteConfig(Ladder::kRebootThenReplace, state);
    StartDaemon();
    ASSERT_TRUE(WaitFor([&] { return Ready(); }, seconds(60)));
    ExpectNoDuplicatesOver(12);
    EXPECT_TRUE(Whole(3)) << Get("/v1/instances?group=web").dump();
    EXPECT_EQ(Ids(), group);
    EXPECT_EQ(Get("/v1/status")["stats"]["launches"], 0);
    EXPECT_EQ(AddressHolder(group_address_), holder);
  }
  // Still the three instances it launched at first, all running.
  EXPECT_EQ(Aws("describe-instances --filters Name=tag:lifeline:group,"
                "Values=web --query 'length(Reservations[].Instances[])'"),
            "3");
  StopDaemon(SIGTERM);
}

// An elastic address associated with an instance after launch (learned by
// the inventory refresh) is left behind when the instance is terminated
// behind lifelined's back, and attached to the instance that restores the
// capacity once that one is ready.
TEST_F(Ec2DaemonTest, LostInstancesAddressMovesToTheNewInstance) {
  WriteConfig();
  const std::set<std::string> before = StartWhole();
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = *before.begin();
  const std::string ip = AssociateNewAddress(victim);

  Aws("terminate-instances --instance-ids " + victim);
  ASSERT_TRUE(
      WaitFor([&] { return Whole(3) && !Ids().count(victim); }, seconds(120)))
      << "not replaced: " << Get("/v1/instances?group=web").dump();
  const std::string fresh = NewcomerTo(before);
  ASSERT_FALSE(fresh.empty());
  ExpectHeldBy(ip, fresh);
  EXPECT_TRUE(HasEvent(victim, "instance.lost"));
  EXPECT_TRUE(HasEvent(victim, "address.left")) << Events(victim).dump();
  EXPECT_TRUE(HasEvent(fresh, "address.attached")) << Events(fresh).dump();
  StopDaemon(SIGTERM);
}

// A group whose ladder replaces at once, with /dev/sdf snapshot_on_replace:
// an instance stopped behind lifelined's back is replaced make-before-break,
// its data volume snapshotted first and the replacement's made from it; its
// elastic address follows it to the replacement.
TEST_F(Ec2DaemonTest, ReplaceRungSnapshotsTheVolumeAndMovesTheAddress) {
  WriteConfig(Ladder::kReplaceWithSnapshot);
  const std::set<std::string> before = StartWhole();
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = *before.begin();
  const std::string volume_query =
      "BlockDeviceMappings[?DeviceName==`/dev/sdf`].Ebs.VolumeId|[0]";
  const std::string old_volume = Describe(victim, volume_query);
  ASSERT_EQ(old_volume.rfind("vol-", 0), 0u) << old_volume;
  const std::string ip = AssociateNewAddress(victim);
  Aws("stop-instances --instance-ids " + victim);

  ASSERT_TRUE(
      WaitFor([&] { return Whole(3) && !Ids().count(victim); }, seconds(240)))
      << "not replaced: " << Get("/v1/instances?group=web").dump();
  EXPECT_EQ(Describe(victim, "State.Name"), "terminated");
  const std::string fresh = NewcomerTo(before);
  ASSERT_FALSE(fresh.empty());

  const std::string snap =
      Aws("describe-snapshots --filters Name=volume-id,Values=" + old_volume +
          " --query 'Snapshots[0].[SnapshotId,State]'");
  ASSERT_EQ(snap.rfind("snap-", 0), 0u) << snap;
  const std::string snap_id = snap.substr(0, snap.find('\t'));
  EXPECT_EQ(snap.substr(snap.find('\t') + 1), "completed");
  EXPECT_EQ(Aws("describe-snapshots --snapshot-ids " + snap_id +
                " --query 'Snapshots[0].Tags[?Key==`lifeline:instance`]"
                ".Value|[0]'"),
            victim);
  EXPECT_EQ(
      Aws("describe-volumes --volume-ids " + Describe(fresh, volume_query) +
          " --query Volumes[0].SnapshotId"),
      snap_id);
  // In the history: the replace rung, and its success naming the new one.
  std::string plan, done;
  for (const json& e : Events(victim, "recovery.")) {
    if (e["type"] == "recovery.started") plan = e["message"];
    if (e["type"] == "recovery.succeeded") done = e["message"];
  }
  EXPECT_NE(plan.find("plan: replace (rung 1 of 1)"), std::string::npos)
      << plan;
  EXPECT_NE(done.find(fresh), std::string::npos) << done;
  EXPECT_EQ(Get("/v1/status")["stats"]["launches"], 4);
  ExpectHeldBy(ip, fresh);
  EXPECT_FALSE(HasEvent(victim, "move.failed")) << Events(victim).dump();
  StopDaemon(SIGTERM);
}

}  // namespace
}  // namespace lifeline
