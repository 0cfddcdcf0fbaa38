#include "heartbeat/datagram_processor.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace lifeline::heartbeat {
namespace {

using std::chrono::seconds;

const std::string kWebKey(32, 'w');
const std::string kDbKey(32, 'd');

class DatagramProcessorTest : public ::testing::Test {
 protected:
  DatagramProcessorTest()
      : detector_(DetectorConfig{}, 2, clock_.Now()),
        processor_(detector_, keys_, seconds(30), counters_) {
    auto ring = KeyRing::Create({{1, "web", kWebKey}, {2, "db", kDbKey}});
    EXPECT_TRUE(ring.ok());
    keys_.Set(*ring);
    EXPECT_TRUE(detector_.Track("web-1", "web", clock_.Now()).ok());
    EXPECT_TRUE(detector_.Track("web-2", "web", clock_.Now()).ok());
    EXPECT_TRUE(detector_.Track("db-1", "db", clock_.Now()).ok());
  }

  HeartbeatEntry Entry(std::string_view id, uint64_t seq) {
    HeartbeatEntry e;
    e.instance_id = id;
    e.seq = seq;
    e.sent_at_us = ToWireMicros(clock_.WallNow());
    return e;
  }
  std::vector<uint8_t> Sign(std::vector<HeartbeatEntry> entries,
                            uint32_t key_id, const std::string& secret) {
    std::vector<uint8_t> d;
    EXPECT_EQ(EncodeUnsigned(key_id, entries, &d), DropReason::kNone);
    auto mac = HmacSha256::Create(secret);
    uint8_t tag[kTagBytes];
    EXPECT_TRUE((*mac)->Tag(d, tag));
    d.insert(d.end(), tag, tag + kTagBytes);
    return d;
  }
  DropReason Process(const std::vector<uint8_t>& d) {
    return processor_.Process(d, clock_.Now(), clock_.WallNow());
  }
  uint64_t Dropped(DropReason r) {
    return counters_.dropped[static_cast<size_t>(r)].load();
  }
  // Health as the detector will report it after the pending output drains.
  AppHealth Health(std::string_view id) { return detector_.health(id); }

  SimClock clock_;
  KeyStore keys_;
  ShardedDetector detector_;
  ReceiverCounters counters_;
  DatagramProcessor processor_;
};

TEST_F(DatagramProcessorTest, AcceptsABatchSignedWithTheGroupKey) {
  auto d = Sign({Entry("web-1", 5), Entry("web-2", 5)}, 1, kWebKey);
  EXPECT_EQ(Process(d), DropReason::kNone);
  EXPECT_EQ(counters_.entries_accepted.load(), 2u);
  EXPECT_EQ(Health("web-1"), AppHealth::kOk);
  EXPECT_EQ(Health("web-2"), AppHealth::kOk);
}

TEST_F(DatagramProcessorTest, WrongKeyIsBadMacAndChangesNothing) {
  auto d = Sign({Entry("web-1", 5)}, 1, std::string(32, 'x'));
  EXPECT_EQ(Process(d), DropReason::kBadMac);
  EXPECT_EQ(Dropped(DropReason::kBadMac), 1u);
  EXPECT_EQ(Health("web-1"), AppHealth::kUnknown);
}

TEST_F(DatagramProcessorTest, EveryFlippedBitIsRefused) {
  auto good = Sign({Entry("web-1", 5)}, 1, kWebKey);
  uint64_t refused = 0;
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto d = good;
    d[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    if (Process(d) != DropReason::kNone) ++refused;
  }
  EXPECT_EQ(refused, good.size() * 8);
  EXPECT_EQ(counters_.entries_accepted.load(), 0u);
  EXPECT_EQ(Health("web-1"), AppHealth::kUnknown);
  EXPECT_GT(Dropped(DropReason::kBadMac), 0u);
}

TEST_F(DatagramProcessorTest, TruncatedDatagramsAreMalformed) {
  auto good = Sign({Entry("web-1", 5)}, 1, kWebKey);
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_NE(Process(cut), DropReason::kNone);
  }
  EXPECT_EQ(Dropped(DropReason::kMalformed) + Dropped(DropReason::kBadMac),
            good.size());
  EXPECT_GE(Dropped(DropReason::kMalformed), kHeaderBytes + kTagBytes);
  EXPECT_EQ(Health("web-1"), AppHealth::kUnknown);
}

TEST_F(DatagramProcessorTest, OversizedBatchIsRefused) {
  auto d = Sign({Entry("web-1", 5)}, 1, kWebKey);
  d[6] = 0x01;  // claims 257 entries
  d[7] = 0x01;
  EXPECT_EQ(Process(d), DropReason::kOversized);
  std::vector<uint8_t> huge(kMaxDatagramBytes + 1, 0);
  EXPECT_EQ(Process(huge), DropReason::kOversized);
  EXPECT_EQ(Dropped(DropReason::kOversized), 2u);
}

TEST_F(DatagramProcessorTest, ReplayedSequenceIsRefusedPerEntry) {
  auto d = Sign({Entry("web-1", 5)}, 1, kWebKey);
  EXPECT_EQ(Process(d), DropReason::kNone);
  EXPECT_EQ(Process(d), DropReason::kNone);  // authentic, but a replay
  EXPECT_EQ(Dropped(DropReason::kReplayed), 1u);
  auto older = Sign({Entry("web-1", 4)}, 1, kWebKey);
  Process(older);
  EXPECT_EQ(Dropped(DropReason::kReplayed), 2u);
  EXPECT_EQ(counters_.entries_accepted.load(), 1u);
}

TEST_F(DatagramProcessorTest, StaleOrFutureTimestampsAreRefused) {
  HeartbeatEntry old = Entry("web-1", 5);
  old.sent_at_us -= 31'000'000;
  HeartbeatEntry future = Entry("web-2", 5);
  future.sent_at_us += 31'000'000;
  auto d = Sign({old, future, Entry("db-1", 1)}, 1, kWebKey);
  EXPECT_EQ(Process(d), DropReason::kNone);
  EXPECT_EQ(Dropped(DropReason::kStale), 2u);
  EXPECT_EQ(Health("web-1"), AppHealth::kUnknown);
  EXPECT_EQ(Health("web-2"), AppHealth::kUnknown);
}

TEST_F(DatagramProcessorTest, UnknownInstanceAndOtherGroupsAreRefused) {
  auto d = Sign({Entry("nobody", 1), Entry("db-1", 1), Entry("web-1", 1)}, 1,
                kWebKey);
  EXPECT_EQ(Process(d), DropReason::kNone);
  EXPECT_EQ(Dropped(DropReason::kUnknownInstance), 1u);
  EXPECT_EQ(Dropped(DropReason::kWrongGroup), 1u);  // web key for a db instance
  EXPECT_EQ(Health("db-1"), AppHealth::kUnknown);
  EXPECT_EQ(Health("web-1"), AppHealth::kOk);
}

TEST_F(DatagramProcessorTest, UnknownKeyIdIsRefused) {
  auto d = Sign({Entry("web-1", 1)}, 99, kWebKey);
  EXPECT_EQ(Process(d), DropReason::kUnknownKey);
  EXPECT_EQ(Dropped(DropReason::kUnknownKey), 1u);
  EXPECT_EQ(Health("web-1"), AppHealth::kUnknown);
}

TEST_F(DatagramProcessorTest, RotatedKeysTakeEffectWithoutRestart) {
  std::string next(32, 'n');
  auto ring = KeyRing::Create({{1, "web", kWebKey}, {3, "web", next}});
  keys_.Set(*ring);
  EXPECT_EQ(Process(Sign({Entry("web-1", 1)}, 1, kWebKey)), DropReason::kNone);
  EXPECT_EQ(Process(Sign({Entry("web-1", 2)}, 3, next)), DropReason::kNone);
  keys_.Set(*KeyRing::Create({{3, "web", next}}));
  EXPECT_EQ(Process(Sign({Entry("web-1", 3)}, 1, kWebKey)),
            DropReason::kUnknownKey);
  EXPECT_EQ(counters_.entries_accepted.load(), 2u);
}

}  // namespace
}  // namespace lifeline::heartbeat
