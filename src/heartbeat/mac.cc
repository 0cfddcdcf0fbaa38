// The SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but
// EVP cannot copy a keyed digest state without allocating a provider
// context; they remain part of the 3.x API.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "heartbeat/mac.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lifeline::heartbeat {

struct HmacSha256::Pads {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

HmacSha256::HmacSha256(std::unique_ptr<Pads> pads) : pads_(std::move(pads)) {}

Result<std::unique_ptr<HmacSha256>> HmacSha256::Create(std::string_view key) {
  // RFC 2104: a key longer than the block is hashed first; the key is then
  // zero-padded to the block and XORed with 0x36 (inner) and 0x5c (outer).
  constexpr size_t kBlock = SHA256_CBLOCK;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char ipad[kBlock], opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  auto pads = std::make_unique<Pads>();
  bool ok = SHA256_Init(&pads->inner) == 1 &&
            SHA256_Update(&pads->inner, ipad, kBlock) == 1 &&
            SHA256_Init(&pads->outer) == 1 &&
            SHA256_Update(&pads->outer, opad, kBlock) == 1;
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  if (!ok) return Internal("heartbeat mac: SHA-256 initialisation failed");
  return std::unique_ptr<HmacSha256>(new HmacSha256(std::move(pads)));
}

HmacSha256::~HmacSha256() { OPENSSL_cleanse(pads_.get(), sizeof(Pads)); }

bool HmacSha256::Tag(std::span<const uint8_t> data, uint8_t out[kTagBytes]) {
  unsigned char inner[SHA256_DIGEST_LENGTH];
  unsigned char full[SHA256_DIGEST_LENGTH];
  SHA256_CTX c = pads_->inner;
  if (SHA256_Update(&c, data.data(), data.size()) != 1 ||
      SHA256_Final(inner, &c) != 1) {
    return false;
  }
  c = pads_->outer;
  if (SHA256_Update(&c, inner, sizeof inner) != 1 ||
      SHA256_Final(full, &c) != 1) {
    return false;
  }
  std::memcpy(out, full, kTagBytes);
  return true;
}

bool HmacSha256::Verify(std::span<const uint8_t> data,
                        std::span<const uint8_t> tag) {
  uint8_t expected[kTagBytes];
  if (tag.size() != kTagBytes || !Tag(data, expected)) return false;
  return CRYPTO_memcmp(expected, tag.data(), kTagBytes) == 0;
}

Result<std::shared_ptr<const KeyRing>> KeyRing::Create(
    std::vector<HeartbeatKey> keys) {
  auto ring = std::make_shared<KeyRing>();
  std::map<std::string, int> per_group;
  for (HeartbeatKey& k : keys) {
    std::string what = "heartbeat keys: key id " + std::to_string(k.key_id);
    if (k.group.empty()) return InvalidArgument(what + ": empty group");
    if (k.secret.size() < kMinKeyBytes) {
      return InvalidArgument(
          what + ": secret has " + std::to_string(k.secret.size()) +
          " bytes, need at least " + std::to_string(kMinKeyBytes));
    }
    if (ring->Find(k.key_id) != nullptr) {
      return InvalidArgument(what + ": configured twice");
    }
    if (++per_group[k.group] > 2) {
      return InvalidArgument(what + ": group " + k.group +
                             " already has two keys (old and new)");
    }
    int g = ring->GroupIndex(k.group);
    if (g < 0) {
      g = static_cast<int>(ring->groups_.size());
      ring->groups_.push_back(k.group);
    }
    Entry e{k.key_id, static_cast<uint16_t>(g), std::move(k.secret)};
    auto pos = std::lower_bound(
        ring->entries_.begin(), ring->entries_.end(), e.key_id,
        [](const Entry& a, uint32_t id) { return a.key_id < id; });
    ring->entries_.insert(pos, std::move(e));
  }
  return std::shared_ptr<const KeyRing>(std::move(ring));
}

const KeyRing::Entry* KeyRing::Find(uint32_t key_id) const {
  auto pos = std::lower_bound(
      entries_.begin(), entries_.end(), key_id,
      [](const Entry& a, uint32_t id) { return a.key_id < id; });
  return pos != entries_.end() && pos->key_id == key_id ? &*pos : nullptr;
}

int KeyRing::GroupIndex(std::string_view group) const {
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i] == group) return static_cast<int>(i);
  }
  return -1;
}

Result<std::string> ParseKeyText(std::string_view text,
                                 std::string_view where) {
  std::string hex;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    for (size_t i = b; i < line.size(); ++i) {
      char c = line[i];
      if (std::isspace(static_cast<unsigned char>(c))) continue;
      if (!std::isxdigit(static_cast<unsigned char>(c))) {
        return InvalidArgument("heartbeat key " + std::string(where) +
                               ": not hex (character '" + std::string(1, c) +
                               "')");
      }
      hex.push_back(c);
    }
  }
  if (hex.size() % 2 != 0 || hex.size() < 2 * kMinKeyBytes) {
    return InvalidArgument("heartbeat key " + std::string(where) + ": " +
                           std::to_string(hex.size()) +
                           " hex digits, need an even number >= " +
                           std::to_string(2 * kMinKeyBytes));
  }
  std::string secret(hex.size() / 2, '\0');
  for (size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return secret;
}

Result<std::string> ReadKeyFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return NotFound("heartbeat key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 0007) != 0) {
    return PermissionDenied("heartbeat key file " + path +
                            ": readable by others; chmod 600 it");
  }
  std::ifstream f(path);
  if (!f) {
    return PermissionDenied("heartbeat key file " + path + ": cannot open");
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseKeyText(ss.str(), path);
}

}  // namespace lifeline::heartbeat
