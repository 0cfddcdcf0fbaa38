#include "heartbeat/mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lifeline::heartbeat {

Result<std::unique_ptr<HmacSha256>> HmacSha256::Create(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr)
    return Internal("heartbeat mac: EVP_MAC_fetch(HMAC) failed");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (ctx == nullptr) return Internal("heartbeat mac: EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()),
                   key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return Internal("heartbeat mac: EVP_MAC_init(HMAC-SHA256) failed");
  }
  return std::unique_ptr<HmacSha256>(new HmacSha256(ctx));
}

HmacSha256::~HmacSha256() { EVP_MAC_CTX_free(ctx_); }

bool HmacSha256::Tag(std::span<const uint8_t> data, uint8_t out[kTagBytes]) {
  unsigned char full[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // A null key re-initialises with the key given at Create().
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_, data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx_, full, &len, sizeof full) != 1 || len < kTagBytes) {
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
