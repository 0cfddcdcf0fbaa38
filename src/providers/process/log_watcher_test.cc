#include "providers/process/log_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace lifeline::process {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

class LogWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeline-logwatch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    a_ = dir_ + "/a.log";
    b_ = dir_ + "/b.log";
    std::ofstream(a_) << "";
    std::ofstream(b_) << "";
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void Append(const std::string& path) {
    std::ofstream(path, std::ios::app) << "line\n";
  }

  std::string dir_, a_, b_;
};

TEST_F(LogWatcherTest, ReportsANewFileOnceThenOnlyFilesWrittenTo) {
  LogWatcher w;
  ASSERT_TRUE(w.watching());
  w.Add(a_);
  w.Add(b_);
  EXPECT_EQ(w.TakeChanged(), (Paths{a_, b_}));  // looked at once when added
  EXPECT_EQ(w.TakeChanged(), Paths{});          // idle files cost nothing
  Append(b_);
  Append(b_);
  EXPECT_EQ(w.TakeChanged(), Paths{b_});  // repeated writes, reported once
  EXPECT_EQ(w.TakeChanged(), Paths{});
  // Copy-and-truncate rotation keeps the inode, so the watch stays.
  Append(a_);
  EXPECT_EQ(w.TakeChanged(), Paths{a_});
  fs::resize_file(a_, 0);
  EXPECT_EQ(w.TakeChanged(), Paths{a_});
  Append(a_);
  EXPECT_EQ(w.TakeChanged(), Paths{a_});
}

TEST_F(LogWatcherTest, AFileThatCannotBeWatchedIsReportedEveryTime) {
  LogWatcher w;
  std::string later = dir_ + "/later.log";
  w.Add(later);  // not created yet
  EXPECT_EQ(w.TakeChanged(), Paths{later});
  EXPECT_EQ(w.TakeChanged(), Paths{later});
  std::ofstream(later) << "";
  // Reported (and watched) once more when it appears, then only on writes.
  EXPECT_EQ(w.TakeChanged(), Paths{later});
  EXPECT_EQ(w.TakeChanged(), Paths{});
  Append(later);
  EXPECT_EQ(w.TakeChanged(), Paths{later});
}

TEST_F(LogWatcherTest, ADeletedFileIsLookedAtUntilItIsWatchedAgain) {
  LogWatcher w;
  w.Add(a_);
  (void)w.TakeChanged();
  fs::remove(a_);
  EXPECT_EQ(w.TakeChanged(), Paths{a_});  // the delete, and no watch now
  EXPECT_EQ(w.TakeChanged(), Paths{a_});  // missing: retried every time
  std::ofstream(a_) << "";
  EXPECT_EQ(w.TakeChanged(), Paths{a_});  // re-watched
  EXPECT_EQ(w.TakeChanged(), Paths{});
}

TEST_F(LogWatcherTest, RemovedFilesAreNoLongerReported) {
  LogWatcher w;
  w.Add(a_);
  w.Add(b_);
  w.Remove(a_);
  EXPECT_EQ(w.TakeChanged(), Paths{b_});
  Append(a_);
  EXPECT_EQ(w.TakeChanged(), Paths{});
  EXPECT_EQ(w.size(), 1u);
}

}  // namespace
}  // namespace lifeline::process
