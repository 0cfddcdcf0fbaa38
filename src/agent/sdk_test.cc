#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "heartbeat/mac.h"
#include "heartbeat/wire.h"
#include "lifeline/heartbeat.hpp"

namespace lifeline {
namespace {

namespace hb = heartbeat;

const char kKeyHex[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

class SdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = ::testing::TempDir() + "/sdk_test.key";
    std::ofstream(key_path_) << "# test key\n" << kKeyHex << "\n";
    chmod(key_path_.c_str(), 0600);
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  void TearDown() override {
    close(fd_);
    unlink(key_path_.c_str());
    for (const char* v :
         {"LIFELINE_INSTANCE_ID", "LIFELINE_HEARTBEAT_ADDR",
          "LIFELINE_HEARTBEAT_KEY_FILE", "LIFELINE_HEARTBEAT_KEY_ID",
          "LIFELINE_HEARTBEAT_INTERVAL"}) {
      unsetenv(v);
    }
  }
  // The next datagram, or empty after a 5 s deadline.
  std::vector<uint8_t> Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return {};
    std::vector<uint8_t> buf(70000);
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  std::string key_path_, addr_;
  int fd_ = -1;
};

TEST_F(SdkTest, OpensFromEnvironmentAndSendsAuthenticatedHeartbeats) {
  setenv("LIFELINE_INSTANCE_ID", "web-a-17", 1);
  setenv("LIFELINE_HEARTBEAT_ADDR", addr_.c_str(), 1);
  setenv("LIFELINE_HEARTBEAT_KEY_FILE", key_path_.c_str(), 1);
  setenv("LIFELINE_HEARTBEAT_KEY_ID", "42", 1);
  setenv("LIFELINE_HEARTBEAT_INTERVAL", "250ms", 1);
  std::string error;
  auto h = Heartbeat::FromEnvironment(&error);
  ASSERT_NE(h, nullptr) << error;
  EXPECT_EQ(h->interval(), std::chrono::milliseconds(250));
  ASSERT_TRUE(h->Beat(Heartbeat::Status::kDegraded, 0.25, 12.5));
  ASSERT_TRUE(h->Beat());
  auto key = hb::ParseKeyText(kKeyHex, "test");
  auto mac = hb::HmacSha256::Create(*key);
  uint64_t first_seq = 0;
  for (int k = 0; k < 2; ++k) {
    auto d = Receive();
    ASSERT_FALSE(d.empty());
    hb::ParsedDatagram p;
    ASSERT_EQ(hb::ParseDatagram(d, &p), hb::DropReason::kNone);
    EXPECT_TRUE((*mac)->Verify(p.signed_bytes, p.tag));
    EXPECT_EQ(p.header.key_id, 42u);
    const hb::HeartbeatEntry& e = p.entries[0];
    EXPECT_EQ(e.instance_id, "web-a-17");
    EXPECT_EQ(e.interval_us, 250000u);
    if (k == 0) {
      first_seq = e.seq;
      EXPECT_EQ(e.status, hb::AppStatus::kDegraded);
      EXPECT_TRUE(e.has_error_ratio);
      EXPECT_EQ(e.error_ratio_bp, 2500);
      EXPECT_EQ(e.latency_us, 12500u);
    } else {
      EXPECT_EQ(e.seq, first_seq + 1);
      EXPECT_EQ(e.status, hb::AppStatus::kOk);
      EXPECT_FALSE(e.has_error_ratio);
    }
  }
}

TEST_F(SdkTest, ExplainsWhatIsMissingOrWrong) {
  lifeline_hb* h = nullptr;
  char err[256];
  ASSERT_NE(lifeline_hb_open_env(&h, err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("LIFELINE_INSTANCE_ID"), std::string::npos);
  setenv("LIFELINE_INSTANCE_ID", "a", 1);
  setenv("LIFELINE_HEARTBEAT_ADDR", addr_.c_str(), 1);
  setenv("LIFELINE_HEARTBEAT_KEY_FILE", key_path_.c_str(), 1);
  setenv("LIFELINE_HEARTBEAT_INTERVAL", "soon", 1);
  ASSERT_NE(lifeline_hb_open_env(&h, err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("LIFELINE_HEARTBEAT_INTERVAL=soon"),
            std::string::npos);
  lifeline_hb_options o{"a", addr_.c_str(), "/nonexistent/key", 1, 100};
  ASSERT_NE(lifeline_hb_open(&o, &h, err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("/nonexistent/key"), std::string::npos);
  o.key_file = key_path_.c_str();
  o.instance_id = "has space";
  ASSERT_NE(lifeline_hb_open(&o, &h, err, sizeof err), 0);
}

}  // namespace
}  // namespace lifeline
