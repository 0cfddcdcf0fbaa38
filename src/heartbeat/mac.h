// Heartbeat authentication: HMAC-SHA256 with long-lived keyed contexts,
// the set of accepted keys (KeyRing), and key files.
//
// Keys belong to groups. A datagram names its key id; the receiver accepts
// it only if that key is configured and the tag verifies, and then only for
// instances tracked in the key's group. At most two keys per group are
// accepted at once, so a group's key can be rotated without downtime
// (add the new key id, move agents over, remove the old one).
//
// Thread-safety: KeyRing is immutable after Create() and may be shared.
// HmacSha256 holds hash state: one owner thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "heartbeat/wire.h"

namespace lifeline::heartbeat {

inline constexpr size_t kMinKeyBytes = 16;

// HMAC-SHA256 keyed once and reused for every message. The SHA-256 states
// after absorbing the inner and outer key pads are computed at Create() and
// copied per message, so a short datagram costs two compressions and no
// allocation (OpenSSL's EVP_MAC re-initialisation duplicated a provider
// context per message: ~170 ns against ~100 ns for a 49-byte datagram).
class HmacSha256 {
 public:
  static Result<std::unique_ptr<HmacSha256>> Create(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // The first kTagBytes bytes of HMAC-SHA256(key, data). False only if
  // the hash fails.
  bool Tag(std::span<const uint8_t> data, uint8_t out[kTagBytes]);
  // Constant-time comparison of the expected tag with `tag`.
  bool Verify(std::span<const uint8_t> data, std::span<const uint8_t> tag);

 private:
  struct Pads;  // SHA-256 states after the inner and outer key pads
  explicit HmacSha256(std::unique_ptr<Pads> pads);
  std::unique_ptr<Pads> pads_;
};

struct HeartbeatKey {
  uint32_t key_id = 0;
  std::string group;   // the instance group this key speaks for
  std::string secret;  // raw bytes, >= kMinKeyBytes
};

// The keys a receiver accepts.
class KeyRing {
 public:
  struct Entry {
    uint32_t key_id;
    uint16_t group_index;  // dense index of the group (see group_name)
    std::string secret;
  };
  // InvalidArgument for a short secret, a duplicate key id, an empty group
  // or a third key in one group.
  static Result<std::shared_ptr<const KeyRing>> Create(
      std::vector<HeartbeatKey> keys);

  // nullptr if the key id is not configured.
  const Entry* Find(uint32_t key_id) const;
  // Dense index of a group name; -1 if no key has that group.
  int GroupIndex(std::string_view group) const;
  const std::string& group_name(uint16_t index) const { return groups_[index]; }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;  // sorted by key_id
  std::vector<std::string> groups_;
};

// Reads a key file: the secret as hex (at least 32 hex digits = 16 bytes;
// 64 recommended), optionally surrounded by whitespace; lines starting with
// '#' are comments. Refuses files readable by "other" (mode & 0007).
Result<std::string> ReadKeyFile(const std::string& path);
// Parses the hex text of a key file (same rules, without the file checks).
Result<std::string> ParseKeyText(std::string_view text, std::string_view where);

}  // namespace lifeline::heartbeat
