#include "heartbeat/datagram_processor.h"

#include <cstdlib>

namespace lifeline::heartbeat {

void KeyStore::Set(std::shared_ptr<const KeyRing> ring) {
  std::lock_guard<std::mutex> lock(mu_);
  ring_ = std::move(ring);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const KeyRing> KeyStore::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_;
}

DatagramProcessor::DatagramProcessor(ShardedDetector& detector,
                                     const KeyStore& keys, Duration clock_skew,
                                     ReceiverCounters& counters)
    : detector_(detector),
      keys_(keys),
      skew_us_(std::chrono::duration_cast<std::chrono::microseconds>(clock_skew)
                   .count()),
      counters_(counters),
      parsed_(std::make_unique<ParsedDatagram>()) {
  fresh_.reserve(kMaxEntries);
  fresh_groups_.reserve(kMaxEntries);
}

DatagramProcessor::~DatagramProcessor() = default;

void DatagramProcessor::Reload() {
  version_ = keys_.version();
  ring_ = keys_.Get();
  macs_.clear();
  groups_.clear();
  if (!ring_) return;
  for (const KeyRing::Entry& e : ring_->entries()) {
    auto mac = HmacSha256::Create(e.secret);
    // A key OpenSSL cannot use stays null and its datagrams fail as bad_mac.
    macs_.push_back(mac.ok() ? std::move(mac.value()) : nullptr);
    groups_.push_back(detector_.GroupId(ring_->group_name(e.group_index)));
  }
}

DropReason DatagramProcessor::Process(std::span<const uint8_t> bytes,
                                      MonoTime now, WallTime wall_now) {
  DropReason r = Verify(bytes, ToWireMicros(wall_now));
  Flush(now);
  return r;
}

void DatagramProcessor::ProcessBatch(
    std::span<const std::span<const uint8_t>> datagrams, MonoTime now,
    WallTime wall_now) {
  int64_t wall_us = ToWireMicros(wall_now);
  for (const auto& d : datagrams) Verify(d, wall_us);
  Flush(now);
}

DropReason DatagramProcessor::Verify(std::span<const uint8_t> bytes,
                                     int64_t wall_us) {
  counters_.datagrams.fetch_add(1, std::memory_order_relaxed);
  if (keys_.version() != version_) Reload();
  ParsedDatagram& d = *parsed_;
  DropReason r = ParseDatagram(bytes, &d);
  if (r != DropReason::kNone) {
    Count(r);
    return r;
  }
  const KeyRing::Entry* key = ring_ ? ring_->Find(d.header.key_id) : nullptr;
  if (key == nullptr) {
    Count(DropReason::kUnknownKey);
    return DropReason::kUnknownKey;
  }
  size_t k = static_cast<size_t>(key - ring_->entries().data());
  if (macs_[k] == nullptr || !macs_[k]->Verify(d.signed_bytes, d.tag)) {
    Count(DropReason::kBadMac);
    return DropReason::kBadMac;
  }
  counters_.authenticated.fetch_add(1, std::memory_order_relaxed);
  uint64_t stale = 0;
  for (size_t i = 0; i < d.header.entry_count; ++i) {
    const HeartbeatEntry& e = d.entries[i];
    int64_t skew = e.sent_at_us - wall_us;
    if (skew > skew_us_ || skew < -skew_us_) {
      ++stale;
    } else {
      fresh_.push_back(e);
      fresh_groups_.push_back(groups_[k]);
    }
  }
  if (stale) Count(DropReason::kStale, stale);
  return DropReason::kNone;
}

void DatagramProcessor::Flush(MonoTime now) {
  if (fresh_.empty()) return;
  EntryCounts counts;
  detector_.Observe(fresh_, fresh_groups_, now, &counts);
  fresh_.clear();
  fresh_groups_.clear();
  counters_.entries_accepted.fetch_add(counts.accepted,
                                       std::memory_order_relaxed);
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    if (counts.dropped[i]) Count(static_cast<DropReason>(i), counts.dropped[i]);
  }
}

}  // namespace lifeline::heartbeat
