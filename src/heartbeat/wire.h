// Heartbeat wire format v1 (docs/heartbeat-protocol.md): encoding and
// zero-copy parsing of authenticated heartbeat datagrams.
//
// A datagram is a 12-byte header, 1..kMaxEntries entries and a 16-byte tag
// (HMAC-SHA256 over everything before it, truncated to 128 bits). The
// parser checks structure only; authentication is done by the caller with
// the key the header names (see mac.h). Parsing never allocates and never
// reads outside the given bytes, whatever they contain.
//
// Thread-safety: free functions over caller-owned buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace lifeline::heartbeat {

inline constexpr uint8_t kWireVersion = 1;
inline constexpr size_t kHeaderBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kMaxEntries = 256;
inline constexpr size_t kMaxIdBytes = 64;
inline constexpr size_t kMaxDatagramBytes = 65507;   // largest UDP/IPv4 payload
inline constexpr uint16_t kMaxErrorRatioBp = 10000;  // 100.00 %

// What the application says about itself.
enum class AppStatus : uint8_t { kOk = 0, kDegraded = 1, kFailing = 2 };
std::string_view ToString(AppStatus s);
bool ParseAppStatus(std::string_view s, AppStatus* out);

// Why a datagram or an entry was refused. kNone means accepted. The first
// group is decided per datagram, the second per entry.
enum class DropReason : uint8_t {
  kNone = 0,
  kMalformed,           // truncated, bad magic, bad field, trailing bytes
  kOversized,           // too many entries or too many bytes
  kUnsupportedVersion,  // header version other than 1
  kUnknownKey,          // key id not configured
  kBadMac,              // tag does not verify
  kStale,               // sender timestamp outside the clock-skew window
  kReplayed,            // sequence not above the last accepted one
  kUnknownInstance,     // instance id not tracked
  kWrongGroup,          // key belongs to another group than the instance
  kCount,
};
inline constexpr size_t kDropReasonCount =
    static_cast<size_t>(DropReason::kCount);
std::string_view ToString(DropReason r);

// One instance's heartbeat. instance_id is a view: the caller keeps the
// bytes alive (when parsing: the datagram buffer).
struct HeartbeatEntry {
  std::string_view instance_id;
  uint64_t seq = 0;          // strictly increasing per instance
  int64_t sent_at_us = 0;    // sender's wall clock, microseconds since 1970
  uint32_t interval_us = 0;  // sender's heartbeat interval (0 = unknown)
  AppStatus status = AppStatus::kOk;
  bool has_error_ratio = false;
  uint16_t error_ratio_bp = 0;  // basis points, 0..10000
  bool has_latency = false;
  uint32_t latency_us = 0;
};

struct DatagramHeader {
  uint8_t version = 0;
  uint16_t entry_count = 0;
  uint32_t key_id = 0;
};

// A parsed datagram: views into the buffer given to ParseDatagram.
struct ParsedDatagram {
  DatagramHeader header;
  std::span<const uint8_t>
      signed_bytes;              // header + entries (what the tag covers)
  std::span<const uint8_t> tag;  // kTagBytes
  std::array<HeartbeatEntry, kMaxEntries> entries;
};

// True if the id is 1..64 bytes of printable ASCII without spaces.
bool ValidInstanceId(std::string_view id);

// Bytes one entry takes on the wire.
size_t EncodedEntryBytes(const HeartbeatEntry& e);

// Appends header and entries (no tag) to *out. The caller then appends the
// tag computed over *out. Returns kOversized / kMalformed (bad id, ratio
// out of range) and leaves *out unchanged on error.
DropReason EncodeUnsigned(uint32_t key_id,
                          std::span<const HeartbeatEntry> entries,
                          std::vector<uint8_t>* out);

// Parses structure. On kNone, *out views `bytes`, which must outlive it.
DropReason ParseDatagram(std::span<const uint8_t> bytes, ParsedDatagram* out);

// Reads only the header (for key lookup before the full parse).
DropReason ParseHeader(std::span<const uint8_t> bytes, DatagramHeader* out);

// Wall clock as the wire carries it.
inline int64_t ToWireMicros(WallTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             t.time_since_epoch())
      .count();
}

}  // namespace lifeline::heartbeat
