// UdpReceiver over real loopback sockets: SO_REUSEPORT with several
// threads, each with its own socket per address, fed by many senders (one
// source port each) so the kernel spreads them over the threads.
#include "heartbeat/receiver.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "heartbeat/sender.h"

namespace lifeline::heartbeat {
namespace {

const std::string kSecret(32, 'k');

class ReceiverTest : public ::testing::Test {
 protected:
  ReceiverTest() : detector_(DetectorConfig{}, 4, clock_.Now()) {
    auto ring = KeyRing::Create({{3, "web", kSecret}});
    EXPECT_TRUE(ring.ok());
    keys_.Set(*ring);
  }

  uint64_t Total(std::atomic<uint64_t> ReceiverCounters::*field) const {
    uint64_t n = 0;
    for (const auto& c : receiver_->counters()) n += ((*c).*field).load();
    return n;
  }
  uint64_t Dropped() const {
    uint64_t n = 0;
    for (const auto& c : receiver_->counters()) {
      for (const auto& d : c->dropped) n += d.load();
    }
    return n;
  }
  // Waits for `done` with a 20 s deadline, yielding to the receiver
  // threads (their counters are the only signal they give).
  bool WaitUntil(const std::function<bool()>& done) {
    MonoTime deadline = clock_.Now() + std::chrono::seconds(20);
    while (!done()) {
      if (clock_.Now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  RealClock clock_;
  KeyStore keys_;
  ShardedDetector detector_;
  std::unique_ptr<UdpReceiver> receiver_;
};

TEST_F(ReceiverTest, TwoReusePortThreadsCountEveryHeartbeatExactlyOnce) {
  constexpr int kInstances = 32;
  constexpr int kRounds = 4;
  ReceiverConfig rc;
  rc.bind_addresses = {"127.0.0.1:0", "[::1]:0"};
  rc.threads = 2;
  rc.reuse_port = true;
  rc.rcvbuf_bytes = 1 << 20;
  receiver_ = std::make_unique<UdpReceiver>(rc, clock_, detector_, keys_,
                                            std::chrono::seconds(30));
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) {
    ids.push_back("web-" + std::to_string(i));
    ASSERT_TRUE(detector_.Track(ids.back(), "web", clock_.Now()).ok());
  }
  ASSERT_TRUE(receiver_->Start().ok());
  std::vector<std::string> local = receiver_->local_addresses();
  ASSERT_EQ(local.size(), 2u);

  // One sender (one socket, one source port) per instance, alternating
  // IPv4 and IPv6.
  std::vector<std::unique_ptr<HeartbeatSender>> senders;
  for (int i = 0; i < kInstances; ++i) {
    SenderOptions so;
    so.address = local[i % 2];
    so.key_id = 3;
    so.secret = kSecret;
    auto s = HeartbeatSender::Create(so, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    senders.push_back(std::move(s.value()));
  }
  for (int round = 1; round <= kRounds; ++round) {
    for (int i = 0; i < kInstances; ++i) {
      HeartbeatEntry e;
      e.instance_id = ids[i];
      ASSERT_TRUE(senders[i]->Send(std::span<HeartbeatEntry>(&e, 1)).ok());
    }
    // Round by round, so a slow receiver never overflows its buffer.
    const uint64_t want = static_cast<uint64_t>(round) * kInstances;
    ASSERT_TRUE(WaitUntil([&] {
      return Total(&ReceiverCounters::entries_accepted) >= want;
    })) << "round "
        << round << ": accepted " << Total(&ReceiverCounters::entries_accepted)
        << " of " << want;
  }
  // Everything queued before now has been processed once every thread's
  // drained mark passes it; a datagram seen twice would count as replayed.
  MonoTime sent = clock_.Now();
  ASSERT_TRUE(WaitUntil([&] { return receiver_->drained_until() > sent; }));
  constexpr uint64_t kTotal = uint64_t{kInstances} * kRounds;
  EXPECT_EQ(Total(&ReceiverCounters::datagrams), kTotal);
  EXPECT_EQ(Total(&ReceiverCounters::authenticated), kTotal);
  EXPECT_EQ(Total(&ReceiverCounters::entries_accepted), kTotal);
  EXPECT_EQ(Dropped(), 0u);  // no replayed, unknown or malformed entries
  for (const auto& id : ids) {
    EXPECT_EQ(detector_.health(id), AppHealth::kOk) << id;
  }
  // The kernel spread the 32 source ports over both threads (each port
  // lands on one of two sockets: all on one is a 2^-31 chance). Each
  // sender's datagrams all land on one thread, so per-thread counts are
  // whole multiples of the rounds.
  ASSERT_EQ(receiver_->counters().size(), 2u);
  for (const auto& c : receiver_->counters()) {
    EXPECT_GT(c->entries_accepted.load(), 0u);
    EXPECT_EQ(c->entries_accepted.load() % kRounds, 0u);
  }
  receiver_->Stop();
}

TEST_F(ReceiverTest, SeveralThreadsNeedReusePort) {
  ReceiverConfig rc;
  rc.bind_addresses = {"127.0.0.1:0"};
  rc.threads = 2;
  receiver_ = std::make_unique<UdpReceiver>(rc, clock_, detector_, keys_,
                                            std::chrono::seconds(30));
  EXPECT_EQ(receiver_->Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lifeline::heartbeat
