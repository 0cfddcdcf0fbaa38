#include "providers/process/process_util.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace lifeline::process {
namespace {

TEST(ProcStat, ParsesFieldsAfterACommandNameWithSpacesAndParens) {
  std::string text =
      "4121 (my (odd) name) T 1 4121 4121 0 -1 4194560 100 0 0 0 1 2 0 0 "
      "20 0 1 0 987654321 1000 10 18446744073709551615";
  ProcStat stat;
  ASSERT_TRUE(ParseProcStat(text, &stat));
  EXPECT_EQ(stat.state, 'T');
  EXPECT_EQ(stat.pgrp, 4121);
  EXPECT_EQ(stat.start_time, 987654321u);
  EXPECT_TRUE(IsImpairedState(stat.state));
}

TEST(ProcStat, RejectsTruncatedText) {
  ProcStat stat;
  EXPECT_FALSE(ParseProcStat("12 (sh) S 1 12", &stat));
  EXPECT_FALSE(ParseProcStat("garbage", &stat));
}

TEST(ProcStat, ReadsThisProcessAndReportsMissingPidsAsNotFound) {
  auto self = ReadProcStat(getpid());
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  EXPECT_GT(self->start_time, 0u);
  EXPECT_FALSE(IsImpairedState(self->state));
  // pid_max is at most 2^22 on Linux.
  auto missing = ReadProcStat(1 << 23);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

std::string TempDir() {
  char tmpl[] = "/tmp/lifeline-util-XXXXXX";
  char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  return dir;
}

TEST(SpawnDetached, RunsInANewSessionWithOutputInTheLogFiles) {
  std::string dir = TempDir();
  SpawnRequest req;
  req.command = "sh";
  req.args = {"-c", "echo out-$FOO; echo err >&2; pwd; exit 3"};
  req.env = {"PATH=/usr/bin:/bin", "FOO=bar"};
  req.cwd = dir;
  req.stdout_path = dir + "/out.log";
  req.stderr_path = dir + "/err.log";
  auto pid = SpawnDetached(req);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  auto fd = PidfdOpen(*pid);
  ASSERT_TRUE(fd.ok());
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PIDFD, *fd, &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(PidfdExited(*fd));
  EXPECT_TRUE(IsExitedChild(*fd));
  EXPECT_EQ(ReapChild(*fd), "exit 3");
  EXPECT_FALSE(IsExitedChild(*fd));
  close(*fd);
  std::ifstream out(dir + "/out.log"), err(dir + "/err.log");
  std::stringstream o, e;
  o << out.rdbuf();
  e << err.rdbuf();
  EXPECT_EQ(o.str(), "out-bar\n" + dir + "\n");
  EXPECT_EQ(e.str(), "err\n");
  std::system(("rm -rf " + dir).c_str());
}

TEST(SpawnDetached, ReportsACommandThatCannotRunAsInvalidArgument) {
  SpawnRequest req;
  req.command = "/nonexistent/lifeline-no-such-binary";
  req.stdout_path = "/dev/null";
  req.stderr_path = "/dev/null";
  auto pid = SpawnDetached(req);
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pid.status().message().find("lifeline-no-such-binary"),
            std::string::npos);
}

TEST(Pidfd, SignalsReachTheProcessAndFailOnceItIsGone) {
  SpawnRequest req;
  req.command = "/bin/sleep";
  req.args = {"1000"};
  req.stdout_path = "/dev/null";
  req.stderr_path = "/dev/null";
  auto pid = SpawnDetached(req);
  ASSERT_TRUE(pid.ok());
  auto fd = PidfdOpen(*pid);
  ASSERT_TRUE(fd.ok());
  EXPECT_FALSE(PidfdExited(*fd));
  EXPECT_EQ(getsid(*pid), *pid);  // a session leader: setsid took effect
  ASSERT_TRUE(PidfdSignal(*fd, SIGKILL).ok());
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PIDFD, *fd, &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(ReapChild(*fd), "signal 9");
  EXPECT_EQ(PidfdSignal(*fd, SIGTERM).code(), StatusCode::kNotFound);
  close(*fd);
}

}  // namespace
}  // namespace lifeline::process
