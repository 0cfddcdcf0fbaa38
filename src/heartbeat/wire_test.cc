#include "heartbeat/wire.h"

#include <gtest/gtest.h>

namespace lifeline::heartbeat {
namespace {

HeartbeatEntry Entry(std::string_view id, uint64_t seq) {
  HeartbeatEntry e;
  e.instance_id = id;
  e.seq = seq;
  e.sent_at_us = 1767225600000000 + static_cast<int64_t>(seq);
  e.interval_us = 100000;
  return e;
}

std::vector<uint8_t> Encode(std::span<const HeartbeatEntry> entries,
                            uint32_t key_id = 7) {
  std::vector<uint8_t> d;
  EXPECT_EQ(EncodeUnsigned(key_id, entries, &d), DropReason::kNone);
  d.resize(d.size() + kTagBytes, 0xab);  // a tag; structure only here
  return d;
}

TEST(Wire, RoundTripsEveryField) {
  std::vector<HeartbeatEntry> in = {Entry("i-0abc123", 42),
                                    Entry("web-a-17", 43)};
  in[0].status = AppStatus::kDegraded;
  in[0].has_error_ratio = true;
  in[0].error_ratio_bp = 250;
  in[1].status = AppStatus::kFailing;
  in[1].has_latency = true;
  in[1].latency_us = 12345;
  auto bytes = Encode(in, 0xdeadbeef);
  ParsedDatagram p;
  ASSERT_EQ(ParseDatagram(bytes, &p), DropReason::kNone);
  EXPECT_EQ(p.header.key_id, 0xdeadbeefu);
  ASSERT_EQ(p.header.entry_count, 2);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(p.entries[i].instance_id, in[i].instance_id);
    EXPECT_EQ(p.entries[i].seq, in[i].seq);
    EXPECT_EQ(p.entries[i].sent_at_us, in[i].sent_at_us);
    EXPECT_EQ(p.entries[i].interval_us, in[i].interval_us);
    EXPECT_EQ(p.entries[i].status, in[i].status);
    EXPECT_EQ(p.entries[i].has_error_ratio, in[i].has_error_ratio);
    EXPECT_EQ(p.entries[i].error_ratio_bp, in[i].error_ratio_bp);
    EXPECT_EQ(p.entries[i].has_latency, in[i].has_latency);
    EXPECT_EQ(p.entries[i].latency_us, in[i].latency_us);
  }
  EXPECT_EQ(p.signed_bytes.size(), bytes.size() - kTagBytes);
  EXPECT_EQ(p.tag.size(), kTagBytes);
}

TEST(Wire, RejectsEveryTruncation) {
  HeartbeatEntry e = Entry("i-1", 1);
  e.has_latency = true;
  auto bytes = Encode(std::span<const HeartbeatEntry>(&e, 1));
  ParsedDatagram p;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::span<const uint8_t> cut(bytes.data(), n);
    EXPECT_NE(ParseDatagram(cut, &p), DropReason::kNone) << "length " << n;
  }
}

TEST(Wire, RejectsTrailingBytesBadMagicVersionAndFields) {
  HeartbeatEntry e = Entry("i-1", 1);
  auto good = Encode(std::span<const HeartbeatEntry>(&e, 1));
  ParsedDatagram p;
  auto extra = good;
  extra.insert(extra.begin() + static_cast<long>(good.size() - kTagBytes), 0);
  EXPECT_EQ(ParseDatagram(extra, &p), DropReason::kMalformed);
  auto magic = good;
  magic[0] = 'X';
  EXPECT_EQ(ParseDatagram(magic, &p), DropReason::kMalformed);
  auto version = good;
  version[4] = 2;
  EXPECT_EQ(ParseDatagram(version, &p), DropReason::kUnsupportedVersion);
  auto status = good;
  status[kHeaderBytes + 1 + 3 + 8 + 8 + 4] = 9;  // status byte of entry 0
  EXPECT_EQ(ParseDatagram(status, &p), DropReason::kMalformed);
}

TEST(Wire, OversizedBatchesAreRefused) {
  std::vector<std::string> ids;
  for (size_t i = 0; i <= kMaxEntries; ++i)
    ids.push_back("i-" + std::to_string(i));
  std::vector<HeartbeatEntry> entries;
  for (auto& id : ids) entries.push_back(Entry(id, 1));
  std::vector<uint8_t> out;
  EXPECT_EQ(EncodeUnsigned(1, entries, &out), DropReason::kOversized);
  EXPECT_TRUE(out.empty());
  // A header claiming more than kMaxEntries is refused before any entry.
  entries.resize(1);
  auto bytes = Encode(entries);
  bytes[6] = 0x01;
  bytes[7] = 0x01;  // 257 entries
  ParsedDatagram p;
  EXPECT_EQ(ParseDatagram(bytes, &p), DropReason::kOversized);
}

TEST(Wire, InstanceIdsMustBePrintableAndAtMost64Bytes) {
  EXPECT_TRUE(ValidInstanceId("i-0abc123"));
  EXPECT_TRUE(ValidInstanceId(std::string(64, 'a')));
  EXPECT_FALSE(ValidInstanceId(std::string(65, 'a')));
  EXPECT_FALSE(ValidInstanceId(""));
  EXPECT_FALSE(ValidInstanceId("a b"));
  EXPECT_FALSE(ValidInstanceId(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace lifeline::heartbeat
