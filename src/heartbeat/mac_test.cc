#include "heartbeat/mac.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace lifeline::heartbeat {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  // RFC 4231 case 2: key "Jefe", data "what do ya want for nothing?".
  // Our keys are >= 16 bytes in practice, but the MAC itself takes any key.
  auto mac = HmacSha256::Create("Jefe");
  ASSERT_TRUE(mac.ok());
  uint8_t tag[kTagBytes];
  ASSERT_TRUE((*mac)->Tag(Bytes("what do ya want for nothing?"), tag));
  const uint8_t expected[kTagBytes] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60,
                                       0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
                                       0x08, 0x95, 0x75, 0xc7};
  EXPECT_EQ(0, std::memcmp(tag, expected, kTagBytes));
  // Reuse gives the same answer (the context is re-initialised each time).
  uint8_t again[kTagBytes];
  ASSERT_TRUE((*mac)->Tag(Bytes("what do ya want for nothing?"), again));
  EXPECT_EQ(0, std::memcmp(tag, again, kTagBytes));
  EXPECT_TRUE((*mac)->Verify(Bytes("what do ya want for nothing?"),
                             std::span<const uint8_t>(tag, kTagBytes)));
  tag[3] ^= 1;
  EXPECT_FALSE((*mac)->Verify(Bytes("what do ya want for nothing?"),
                              std::span<const uint8_t>(tag, kTagBytes)));
}

TEST(HmacSha256, HashesKeysLongerThanTheBlockFirst) {
  // RFC 4231 case 6: 131 bytes of 0xaa, a message of two blocks.
  auto mac = HmacSha256::Create(std::string(131, '\xaa'));
  ASSERT_TRUE(mac.ok());
  uint8_t tag[kTagBytes];
  ASSERT_TRUE((*mac)->Tag(
      Bytes("Test Using Larger Than Block-Size Key - Hash Key First"), tag));
  const uint8_t expected[kTagBytes] = {0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0,
                                       0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa,
                                       0xcb, 0xf5, 0xb7, 0x7f};
  EXPECT_EQ(0, std::memcmp(tag, expected, kTagBytes));
}

TEST(HmacSha256, MatchesRfc4231TestCase3) {
  // Key: 20 bytes of 0xaa; data: 50 bytes of 0xdd.
  auto mac = HmacSha256::Create(std::string(20, '\xaa'));
  ASSERT_TRUE(mac.ok());
  uint8_t tag[kTagBytes];
  ASSERT_TRUE((*mac)->Tag(Bytes(std::string(50, '\xdd')), tag));
  const uint8_t expected[kTagBytes] = {0x77, 0x3e, 0xa9, 0x1e, 0x36, 0x80,
                                       0x0e, 0x46, 0x85, 0x4d, 0xb8, 0xeb,
                                       0xd0, 0x91, 0x81, 0xa7};
  EXPECT_EQ(0, std::memcmp(tag, expected, kTagBytes));
}

TEST(KeyRing, AcceptsTwoKeysPerGroupForRotationButNotThree) {
  std::string s(32, 'k');
  auto two = KeyRing::Create({{1, "web", s}, {2, "web", s}, {3, "db", s}});
  ASSERT_TRUE(two.ok());
  EXPECT_NE((*two)->Find(2), nullptr);
  EXPECT_EQ((*two)->Find(4), nullptr);
  EXPECT_EQ((*two)->group_name((*two)->Find(3)->group_index), "db");
  auto three = KeyRing::Create({{1, "web", s}, {2, "web", s}, {5, "web", s}});
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find("group web"), std::string::npos);
  EXPECT_FALSE(KeyRing::Create({{1, "web", "short"}}).ok());
  EXPECT_FALSE(KeyRing::Create({{1, "web", s}, {1, "db", s}}).ok());
}

TEST(KeyFile, ParsesHexWithCommentsAndRefusesBadFiles) {
  auto k = ParseKeyText("# lifeline key\n  00112233445566778899aabbccddeeff \n",
                        "test");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>((*k)[15]), 0xff);
  EXPECT_FALSE(ParseKeyText("0011", "test").ok());
  EXPECT_FALSE(ParseKeyText(std::string(32, 'z'), "test").ok());

  std::string path = ::testing::TempDir() + "/hb_key_test";
  {
    std::ofstream f(path);
    f << std::string(64, 'a') << "\n";
  }
  chmod(path.c_str(), 0644);
  auto open = ReadKeyFile(path);
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  chmod(path.c_str(), 0600);
  auto ok = ReadKeyFile(path);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 32u);
  std::remove(path.c_str());
  EXPECT_EQ(ReadKeyFile(path).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lifeline::heartbeat
