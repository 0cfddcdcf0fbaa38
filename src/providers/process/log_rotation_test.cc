#include "providers/process/log_rotation.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lifeline::process {
namespace {

namespace fs = std::filesystem;

class LogRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeline-logs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/stdout.log";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Append(const std::string& text) {
    std::ofstream(path_, std::ios::app) << text;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_, path_;
};

TEST_F(LogRotationTest, LeavesSmallAndMissingFilesAlone) {
  bool rotated = true;
  ASSERT_TRUE(RotateLogIfLarge(path_, {100, 2}, &rotated).ok());
  EXPECT_FALSE(rotated);
  Append("small\n");
  ASSERT_TRUE(RotateLogIfLarge(path_, {100, 2}, &rotated).ok());
  EXPECT_FALSE(rotated);
  EXPECT_EQ(Read(path_), "small\n");
}

TEST_F(LogRotationTest, ShiftsOlderFilesAndKeepsOnlyTheConfiguredCount) {
  LogRotation policy{10, 2};
  bool rotated = false;
  for (const char* text :
       {"first batch\n", "second batch\n", "third batch\n"}) {
    Append(text);
    ASSERT_TRUE(RotateLogIfLarge(path_, policy, &rotated).ok());
    EXPECT_TRUE(rotated);
  }
  EXPECT_EQ(Read(path_), "");
  EXPECT_EQ(Read(path_ + ".1"), "third batch\n");
  EXPECT_EQ(Read(path_ + ".2"), "second batch\n");
  EXPECT_FALSE(fs::exists(path_ + ".3"));
}

TEST_F(LogRotationTest,
       AnAppendingWriterContinuesAtTheStartOfTheTruncatedFile) {
  // The writer holds its descriptor across the rotation, as an instance does.
  FILE* writer = fopen(path_.c_str(), "a");
  ASSERT_NE(writer, nullptr);
  fputs("before rotation, long enough\n", writer);
  fflush(writer);
  bool rotated = false;
  ASSERT_TRUE(RotateLogIfLarge(path_, {10, 1}, &rotated).ok());
  fputs("after\n", writer);
  fclose(writer);
  EXPECT_EQ(Read(path_), "after\n");
  EXPECT_EQ(Read(path_ + ".1"), "before rotation, long enough\n");
}

}  // namespace
}  // namespace lifeline::process
