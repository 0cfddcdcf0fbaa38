#include "daemon/tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace lifeline {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tokens_test";
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::string s;
    in >> s;
    return s;
  }
  std::string WriteTokens(const std::string& text, mode_t mode = 0600) {
    std::filesystem::create_directories(dir_);
    std::string path = dir_ + "/tokens";
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(TokenStoreTest, GeneratesAPrivateAdminTokenOnFirstStartAndKeepsIt) {
  auto a = TokenStore::Open(dir_, "");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::string path = (*a)->admin_token_path();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token = Read(path);
  EXPECT_EQ(token.size(), 64u);
  auto role = (*a)->Authenticate(token);
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(*role, Role::kAdmin);
  auto b = TokenStore::Open(dir_, "");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Read(path), token);  // not regenerated
  EXPECT_TRUE((*b)->Authenticate(token).ok());
}

TEST_F(TokenStoreTest, TokensFileGivesRoles) {
  std::string file = WriteTokens(
      "# team tokens\n"
      "viewer   viewer-token-0123456789\n"
      "\n"
      "operator operator-token-0123456789\n");
  auto s = TokenStore::Open(dir_, file);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*(*s)->Authenticate("viewer-token-0123456789"), Role::kViewer);
  EXPECT_EQ(*(*s)->Authenticate("operator-token-0123456789"), Role::kOperator);
  auto bad = (*s)->Authenticate("viewer-token-012345678X");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ((*s)->Authenticate("").status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(TokenStoreTest, BadTokensFilesAreRefusedWithTheLine) {
  auto s = TokenStore::Open(dir_, WriteTokens("root some-token-0123456789\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("tokens:1: unknown role \"root\""),
            std::string::npos)
      << s.status().message();
  s = TokenStore::Open(dir_, WriteTokens("viewer\nadmin short\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(":1: expected"), std::string::npos);
  s = TokenStore::Open(dir_, WriteTokens("viewer t-0123456789abcdef\n", 0644));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("readable by others"), std::string::npos);
  s = TokenStore::Open(dir_, dir_ + "/missing");
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lifeline
