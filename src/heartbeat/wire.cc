#include "heartbeat/wire.h"

#include <cstring>

namespace lifeline::heartbeat {

namespace {

constexpr uint8_t kMagic[4] = {'L', 'L', 'H', 'B'};
constexpr size_t kEntryFixedBytes = 1 + 8 + 8 + 4 + 1 + 1;  // without the id
constexpr uint8_t kFieldErrorRatio = 0x01;
constexpr uint8_t kFieldLatency = 0x02;
constexpr uint8_t kKnownFields = kFieldErrorRatio | kFieldLatency;

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}
void Put32(std::vector<uint8_t>* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<uint8_t>(v >> s));
}
void Put64(std::vector<uint8_t>* out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<uint8_t>(v >> s));
}

// Bounds-checked big-endian reader. Every Read* returns false (and reads
// nothing) when fewer bytes remain than asked for.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  size_t remaining() const { return b_.size() - pos_; }
  bool U8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = b_[pos_++];
    return true;
  }
  bool U16(uint16_t* v) {
    uint64_t x;
    if (!Be(2, &x)) return false;
    *v = static_cast<uint16_t>(x);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Be(4, &x)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Be(8, v); }
  bool Bytes(size_t n, const uint8_t** p) {
    if (remaining() < n) return false;
    *p = b_.data() + pos_;
    pos_ += n;
    return true;
  }

 private:
  bool Be(size_t n, uint64_t* v) {
    if (remaining() < n) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x = (x << 8) | b_[pos_ + i];
    pos_ += n;
    *v = x;
    return true;
  }
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view ToString(AppStatus s) {
  switch (s) {
    case AppStatus::kOk:
      return "ok";
    case AppStatus::kDegraded:
      return "degraded";
    case AppStatus::kFailing:
      return "failing";
  }
  return "unknown";
}

bool ParseAppStatus(std::string_view s, AppStatus* out) {
  for (AppStatus v :
       {AppStatus::kOk, AppStatus::kDegraded, AppStatus::kFailing}) {
    if (s == ToString(v)) {
      *out = v;
      return true;
    }
  }
  return false;
}

std::string_view ToString(DropReason r) {
  switch (r) {
    case DropReason::kNone:
      return "none";
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kOversized:
      return "oversized";
    case DropReason::kUnsupportedVersion:
      return "unsupported_version";
    case DropReason::kUnknownKey:
      return "unknown_key";
    case DropReason::kBadMac:
      return "bad_mac";
    case DropReason::kStale:
      return "stale";
    case DropReason::kReplayed:
      return "replayed";
    case DropReason::kUnknownInstance:
      return "unknown_instance";
    case DropReason::kWrongGroup:
      return "wrong_group";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

bool ValidInstanceId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

size_t EncodedEntryBytes(const HeartbeatEntry& e) {
  return kEntryFixedBytes + e.instance_id.size() + (e.has_error_ratio ? 2 : 0) +
         (e.has_latency ? 4 : 0);
}

DropReason EncodeUnsigned(uint32_t key_id,
                          std::span<const HeartbeatEntry> entries,
                          std::vector<uint8_t>* out) {
  if (entries.empty()) return DropReason::kMalformed;
  if (entries.size() > kMaxEntries) return DropReason::kOversized;
  size_t total = kHeaderBytes + kTagBytes;
  for (const HeartbeatEntry& e : entries) {
    if (!ValidInstanceId(e.instance_id)) return DropReason::kMalformed;
    if (e.has_error_ratio && e.error_ratio_bp > kMaxErrorRatioBp) {
      return DropReason::kMalformed;
    }
    if (static_cast<uint8_t>(e.status) > 2) return DropReason::kMalformed;
    total += EncodedEntryBytes(e);
  }
  if (total > kMaxDatagramBytes) return DropReason::kOversized;
  out->reserve(out->size() + total);
  out->insert(out->end(), kMagic, kMagic + 4);
  out->push_back(kWireVersion);
  out->push_back(0);  // flags
  Put16(out, static_cast<uint16_t>(entries.size()));
  Put32(out, key_id);
  for (const HeartbeatEntry& e : entries) {
    out->push_back(static_cast<uint8_t>(e.instance_id.size()));
    out->insert(out->end(), e.instance_id.begin(), e.instance_id.end());
    Put64(out, e.seq);
    Put64(out, static_cast<uint64_t>(e.sent_at_us));
    Put32(out, e.interval_us);
    out->push_back(static_cast<uint8_t>(e.status));
    uint8_t fields = (e.has_error_ratio ? kFieldErrorRatio : 0) |
                     (e.has_latency ? kFieldLatency : 0);
    out->push_back(fields);
    if (e.has_error_ratio) Put16(out, e.error_ratio_bp);
    if (e.has_latency) Put32(out, e.latency_us);
  }
  return DropReason::kNone;
}

DropReason ParseHeader(std::span<const uint8_t> bytes, DatagramHeader* out) {
  if (bytes.size() > kMaxDatagramBytes) return DropReason::kOversized;
  if (bytes.size() < kHeaderBytes + kTagBytes) return DropReason::kMalformed;
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) return DropReason::kMalformed;
  Reader r(bytes.subspan(4));
  uint8_t version = 0, flags = 0;
  uint16_t count = 0;
  uint32_t key_id = 0;
  if (!r.U8(&version) || !r.U8(&flags) || !r.U16(&count) || !r.U32(&key_id)) {
    return DropReason::kMalformed;
  }
  if (version != kWireVersion) return DropReason::kUnsupportedVersion;
  if (flags != 0 || count == 0) return DropReason::kMalformed;
  if (count > kMaxEntries) return DropReason::kOversized;
  *out = DatagramHeader{version, count, key_id};
  return DropReason::kNone;
}

DropReason ParseDatagram(std::span<const uint8_t> bytes, ParsedDatagram* out) {
  DropReason hr = ParseHeader(bytes, &out->header);
  if (hr != DropReason::kNone) return hr;
  std::span<const uint8_t> body = bytes.first(bytes.size() - kTagBytes);
  Reader r(body.subspan(kHeaderBytes));
  for (size_t i = 0; i < out->header.entry_count; ++i) {
    HeartbeatEntry& e = out->entries[i];
    uint8_t id_len = 0, status = 0, fields = 0;
    const uint8_t* id = nullptr;
    uint64_t sent = 0;
    if (!r.U8(&id_len) || id_len == 0 || id_len > kMaxIdBytes ||
        !r.Bytes(id_len, &id) || !r.U64(&e.seq) || !r.U64(&sent) ||
        !r.U32(&e.interval_us) || !r.U8(&status) || !r.U8(&fields)) {
      return DropReason::kMalformed;
    }
    e.instance_id = std::string_view(reinterpret_cast<const char*>(id), id_len);
    if (!ValidInstanceId(e.instance_id) || status > 2 ||
        (fields & ~kKnownFields) != 0) {
      return DropReason::kMalformed;
    }
    e.sent_at_us = static_cast<int64_t>(sent);
    e.status = static_cast<AppStatus>(status);
    e.has_error_ratio = (fields & kFieldErrorRatio) != 0;
    e.has_latency = (fields & kFieldLatency) != 0;
    e.error_ratio_bp = 0;
    e.latency_us = 0;
    if (e.has_error_ratio &&
        (!r.U16(&e.error_ratio_bp) || e.error_ratio_bp > kMaxErrorRatioBp)) {
      return DropReason::kMalformed;
    }
    if (e.has_latency && !r.U32(&e.latency_us)) return DropReason::kMalformed;
  }
  if (r.remaining() != 0) return DropReason::kMalformed;
  out->signed_bytes = body;
  out->tag = bytes.last(kTagBytes);
  return DropReason::kNone;
}

}  // namespace lifeline::heartbeat
