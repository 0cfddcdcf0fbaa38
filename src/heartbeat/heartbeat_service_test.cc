// Real loopback: SDK -> UDP -> HeartbeatService receivers -> detector ->
// transitions posted to a RealLoop standing in for the controller.
#include "heartbeat/heartbeat_service.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/real_loop.h"
#include "lifeline/heartbeat.hpp"

namespace lifeline::heartbeat {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char kKeyHex[] =
    "8f2a9c4e1b7d3f6a0c5e9b2d4f8a1c3e7b0d6f2a9c4e1b7d3f6a0c5e9b2d4f8a";

class LoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = ::testing::TempDir() + "/loopback.key";
    std::ofstream(key_path_) << kKeyHex << "\n";
    chmod(key_path_.c_str(), 0600);
    auto secret = ParseKeyText(kKeyHex, "test");
    ASSERT_TRUE(secret.ok());
    HeartbeatServiceConfig cfg;
    cfg.receiver.bind_addresses = {"127.0.0.1:0", "[::1]:0"};
    cfg.receiver.rcvbuf_bytes = 4 << 20;
    cfg.keys = {{7, "web", *secret}};
    cfg.detector.default_grace = seconds(20);
    HeartbeatSink sink;
    sink.on_transition = [this](const AppHealthTransition& t) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(t);
      cv_.notify_all();
    };
    auto svc = HeartbeatService::Create(cfg, clock_, loop_, sink);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    svc_ = std::move(svc.value());
    loop_thread_ = std::thread([this] { loop_.Run(); });
  }
  void TearDown() override {
    if (svc_) svc_->Stop();
    loop_.Stop();
    if (loop_thread_.joinable()) loop_thread_.join();
    unlink(key_path_.c_str());
  }
  // Waits (20 s at most) until `id` has reached `health`.
  bool WaitFor(const std::string& id, AppHealth health) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] {
      for (const auto& t : seen_) {
        if (t.instance_id == id && t.health == health) return true;
      }
      return false;
    });
  }
  std::unique_ptr<Heartbeat> Open(const std::string& id,
                                  const std::string& addr) {
    Heartbeat::Options o;
    o.instance_id = id;
    o.address = addr;
    o.key_file = key_path_;
    o.key_id = 7;
    o.interval = milliseconds(20);
    std::string error;
    auto h = Heartbeat::Open(o, &error);
    EXPECT_NE(h, nullptr) << error;
    return h;
  }
  // Beats every 20 ms on the loop thread until *stop.
  void BeatOnLoop(Heartbeat* h, std::atomic<bool>* stop) {
    auto fn = std::make_shared<std::function<void()>>();
    *fn = [this, h, stop, weak = std::weak_ptr<std::function<void()>>(fn)] {
      if (stop->load()) return;
      h->Beat();
      if (auto self = weak.lock()) loop_.RunAfter(milliseconds(20), *self);
    };
    beaters_.push_back(fn);
    loop_.Post(*fn);
  }

  RealClock clock_;
  RealLoop loop_{clock_};
  std::thread loop_thread_;
  std::unique_ptr<HeartbeatService> svc_;
  std::string key_path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AppHealthTransition> seen_;  // guarded by mu_
  std::vector<std::shared_ptr<std::function<void()>>> beaters_;
};

TEST_F(LoopbackTest, HeartbeatsOverIpv4AndIpv6ReachTheControllerAsTransitions) {
  ASSERT_TRUE(svc_->Track("app-v4", "web", seconds(20)).ok());
  ASSERT_TRUE(svc_->Track("app-v6", "web", seconds(20)).ok());
  ASSERT_TRUE(svc_->Start().ok());
  auto addrs = svc_->local_addresses();
  ASSERT_EQ(addrs.size(), 2u);
  auto v4 = Open("app-v4", addrs[0]);
  auto v6 = Open("app-v6", addrs[1]);
  ASSERT_TRUE(v4 && v6);
  std::atomic<bool> stop4{false}, stop6{false};
  BeatOnLoop(v4.get(), &stop4);
  BeatOnLoop(v6.get(), &stop6);
  EXPECT_TRUE(WaitFor("app-v4", AppHealth::kOk));
  EXPECT_TRUE(WaitFor("app-v6", AppHealth::kOk));
  // The application goes silent: suspect, then failed.
  stop4 = true;
  EXPECT_TRUE(WaitFor("app-v4", AppHealth::kSuspect));
  EXPECT_TRUE(WaitFor("app-v4", AppHealth::kFailed));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& t : seen_) {
      if (t.instance_id != "app-v6") continue;
      EXPECT_NE(t.health, AppHealth::kSuspect) << t.reason;
      EXPECT_NE(t.health, AppHealth::kFailed) << t.reason;
    }
  }
  stop6 = true;
  HeartbeatStats s = svc_->stats();
  EXPECT_GT(s.entries_accepted, 2u);
  EXPECT_EQ(s.tracked, 2u);
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_GT(s.rcvbuf_bytes, 0);
  EXPECT_GE(s.transitions, 4u);
}

TEST_F(LoopbackTest, ForgedAndMalformedDatagramsAreCountedAndIgnored) {
  ASSERT_TRUE(svc_->Track("victim", "web", seconds(20)).ok());
  ASSERT_TRUE(svc_->Start().ok());
  std::string addr = svc_->local_addresses()[0];
  int port = std::stoi(addr.substr(addr.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A well-formed datagram signed with the wrong key, and garbage.
  HeartbeatEntry e;
  e.instance_id = "victim";
  e.seq = 1;
  e.sent_at_us = ToWireMicros(clock_.WallNow());
  std::vector<uint8_t> forged;
  ASSERT_EQ(EncodeUnsigned(7, std::span<const HeartbeatEntry>(&e, 1), &forged),
            DropReason::kNone);
  forged.resize(forged.size() + kTagBytes, 0x5a);
  const char junk[] = "not a heartbeat";
  for (int i = 0; i < 10; ++i) {
    sendto(fd, forged.data(), forged.size(), 0,
           reinterpret_cast<sockaddr*>(&to), sizeof to);
    sendto(fd, junk, sizeof junk, 0, reinterpret_cast<sockaddr*>(&to),
           sizeof to);
  }
  close(fd);
  HeartbeatStats s;
  for (int tries = 0; tries < 2000;
       ++tries) {  // up to ~20 s, polled on the loop
    s = svc_->stats();
    if (s.datagrams_received >= 20) break;
    std::mutex m;
    std::unique_lock<std::mutex> lock(m);
    std::condition_variable cv;
    cv.wait_for(lock, milliseconds(10));
  }
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::kBadMac)], 10u);
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::kMalformed)], 10u);
  EXPECT_EQ(s.entries_accepted, 0u);
  EXPECT_EQ(svc_->health("victim"), AppHealth::kUnknown);
}

TEST(HeartbeatService, RefusesBadConfiguration) {
  RealClock clock;
  RealLoop loop(clock);
  HeartbeatSink sink{[](const AppHealthTransition&) {}, nullptr};
  HeartbeatServiceConfig cfg;
  cfg.keys = {{1, "web", "short"}};
  EXPECT_EQ(HeartbeatService::Create(cfg, clock, loop, sink).status().code(),
            StatusCode::kInvalidArgument);
  cfg.keys = {};
  cfg.detector.phi_failed = 1;
  EXPECT_EQ(HeartbeatService::Create(cfg, clock, loop, sink).status().code(),
            StatusCode::kInvalidArgument);
  cfg.detector = DetectorConfig{};
  cfg.receiver.bind_addresses = {"not-an-address:1"};
  auto svc = HeartbeatService::Create(cfg, clock, loop, sink);
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ((*svc)->Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lifeline::heartbeat
