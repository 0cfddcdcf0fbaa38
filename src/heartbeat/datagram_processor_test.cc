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

namespace lifeline::heartbeat {
namespace {

// A receiver's recvmmsg batch: datagrams of two groups, one forged, one
// replayed and one naming an unknown instance, are judged exactly as one at
// a time would judge them, although their entries reach the detector
// together (grouped by shard).
TEST_F(DatagramProcessorTest, BatchIsJudgedLikeDatagramsOneByOne) {
  std::vector<std::vector<uint8_t>> batch = {
      Sign({Entry("web-1", 5), Entry("nobody", 5)}, 1, kWebKey),
      Sign({Entry("db-1", 7)}, 2, kDbKey),
      Sign({Entry("web-2", 5)}, 1, std::string(32, 'x')),  // forged
      Sign({Entry("web-1", 4)}, 1, kWebKey),  // replay (below 5)
      Sign({Entry("db-1", 9)}, 1, kWebKey),   // web key for a db instance
  };
  std::vector<std::span<const uint8_t>> views(batch.begin(), batch.end());
  processor_.ProcessBatch(views, clock_.Now(), clock_.WallNow());
  EXPECT_EQ(counters_.datagrams.load(), 5u);
  EXPECT_EQ(counters_.authenticated.load(), 4u);
  EXPECT_EQ(counters_.entries_accepted.load(), 2u);  // web-1@5, db-1@7
  EXPECT_EQ(Dropped(DropReason::kBadMac), 1u);
  EXPECT_EQ(Dropped(DropReason::kUnknownInstance), 1u);
  EXPECT_EQ(Dropped(DropReason::kReplayed), 1u);
  EXPECT_EQ(Dropped(DropReason::kWrongGroup), 1u);
  EXPECT_EQ(Health("web-1"), AppHealth::kOk);
  EXPECT_EQ(Health("db-1"), AppHealth::kOk);
  EXPECT_EQ(Health("web-2"), AppHealth::kUnknown);
}

// Many instances over many shards in one call: every one is found.
TEST(ShardedDetectorBatch, ObservesEveryEntryOfALargeBatchAcrossShards) {
  SimClock clock;
  ShardedDetector detector(DetectorConfig{}, 7, clock.Now());
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("i-" + std::to_string(i));
  for (const auto& id : ids) ASSERT_TRUE(detector.Track(id, "g", clock.Now()).ok());
  std::vector<HeartbeatEntry> entries;
  for (const auto& id : ids) {
    HeartbeatEntry e;
    e.instance_id = id;
    e.seq = 1;
    entries.push_back(e);
  }
  HeartbeatEntry stranger;
  stranger.instance_id = "i-x";
  stranger.seq = 1;
  entries.insert(entries.begin() + 500, stranger);
  std::vector<uint16_t> groups(entries.size(), detector.GroupId("g"));
  EntryCounts counts;
  detector.Observe(entries, groups, clock.Now(), &counts);
  EXPECT_EQ(counts.accepted, 1000u);
  EXPECT_EQ(counts.dropped[static_cast<size_t>(DropReason::kUnknownInstance)],
            1u);
  for (const auto& id : ids) EXPECT_EQ(detector.health(id), AppHealth::kOk) << id;
  // The same batch again is a replay of every entry.
  EntryCounts again;
  detector.Observe(entries, groups, clock.Now(), &again);
  EXPECT_EQ(again.accepted, 0u);
  EXPECT_EQ(again.dropped[static_cast<size_t>(DropReason::kReplayed)], 1000u);
}

}  // namespace
}  // namespace lifeline::heartbeat
