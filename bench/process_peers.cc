// supervisord and monit runners of the process benchmarks (see
// process_runners.h), each with its fastest legal settings.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench/process_runners.h"

namespace lifeline::bench {
namespace {

std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/usr/local/bin/", "/usr/sbin/"}) {
    std::string p = std::string(dir) + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

bool AwaitReports(Board& board, const std::string& who, int n,
                  std::chrono::seconds limit) {
  if (board.WaitUntil(
          [&] {
            return board.starts_locked().size() >= static_cast<size_t>(n);
          },
          limit)) {
    return true;
  }
  std::fprintf(stderr, "# %s: %zu of %d instances reported\n", who.c_str(),
               board.Count(), n);
  return false;
}

// supervisord: one [program] with numprocs=n; autorestart=true and
// startsecs=0 (a process counts as started at once, so it is restarted
// immediately whenever it exits); output not captured to files.
class Supervisord final : public Runner {
 public:
  Supervisord(Board& board, RunnerPaths paths)
      : board_(board), paths_(std::move(paths)) {}
  ~Supervisord() override { Stop(); }
  std::string name() const override { return "supervisord"; }
  int pid() const override { return pid_; }

  bool Start(int n, std::chrono::seconds limit) override {
    std::string exe = Which("supervisord");
    if (exe.empty()) {
      std::fprintf(stderr, "# supervisord: not installed\n");
      return false;
    }
    std::filesystem::create_directories(paths_.dir);
    std::string conf = paths_.dir + "/supervisord.conf";
    std::ofstream(conf)
        << "[supervisord]\n"
        << "logfile=" << paths_.dir << "/supervisord.log\n"
        << "pidfile=" << paths_.dir << "/supervisord.pid\n"
        << "childlogdir=" << paths_.dir << "\n"
        << "nodaemon=true\nloglevel=warn\n"
        << "minfds=" << (4 * n + 1024) << "\nminprocs=" << (n + 200) << "\n"
        << "[program:w]\n"
        << "command=" << paths_.workload << " " << board_.socket_path()
        << " w-%(process_num)04d\n"
        << "process_name=%(program_name)s-%(process_num)04d\n"
        << "numprocs=" << n << "\n"
        << "autostart=true\nautorestart=true\nstartsecs=0\nstartretries=1000\n"
        << "stopwaitsecs=1\n"
        << "stdout_logfile=NONE\nstderr_logfile=NONE\n";
    pid_ = Spawn({exe, "-n", "-c", conf}, paths_.dir + "/supervisord.out");
    return AwaitReports(board_, name(), n, limit);
  }

  void Stop() override {
    KillChild(pid_);
    pid_ = -1;
    KillMarked(board_.socket_path());
  }

 private:
  Board& board_;
  RunnerPaths paths_;
  pid_t pid_ = -1;
};

// monit: `set daemon 1` (its shortest cycle) and one `check process` per
// instance with a pidfile the workload writes; a missing process is
// started again on the next cycle. monit waits for a start program to
// exit, so the workload daemonizes (--fork) as real services do.
class Monit final : public Runner {
 public:
  Monit(Board& board, RunnerPaths paths)
      : board_(board), paths_(std::move(paths)) {}
  ~Monit() override { Stop(); }
  std::string name() const override { return "monit"; }
  int pid() const override { return pid_; }

  bool Start(int n, std::chrono::seconds limit) override {
    std::string exe = Which("monit");
    if (exe.empty()) {
      std::fprintf(stderr, "# monit: not installed\n");
      return false;
    }
    std::filesystem::create_directories(paths_.dir + "/pids");
    std::string rc = paths_.dir + "/monitrc";
    {
      std::ofstream out(rc);
      out << "set daemon 1\n"
          << "set logfile " << paths_.dir << "/monit.log\n"
          << "set pidfile " << paths_.dir << "/monit.pid\n"
          << "set idfile " << paths_.dir << "/monit.id\n"
          << "set statefile " << paths_.dir << "/monit.state\n";
      for (int i = 0; i < n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "w%04d", i);
        std::string pidfile = paths_.dir + "/pids/" + name + ".pid";
        out << "check process " << name << " with pidfile " << pidfile << "\n"
            << "  start program = \"" << paths_.workload << " --fork "
            << board_.socket_path() << " " << name << " " << pidfile << "\"\n"
            << "  stop program = \"/bin/true\"\n";
      }
    }
    ::chmod(rc.c_str(), 0600);  // monit refuses a control file others can read
    pid_ = Spawn({exe, "-I", "-c", rc}, paths_.dir + "/monit.out");
    return AwaitReports(board_, name(), n, limit);
  }

  void Stop() override {
    KillChild(pid_);
    pid_ = -1;
    KillMarked(board_.socket_path());
  }

 private:
  Board& board_;
  RunnerPaths paths_;
  pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<Runner> MakeSupervisord(Board& board, RunnerPaths paths) {
  return std::make_unique<Supervisord>(board, std::move(paths));
}

std::unique_ptr<Runner> MakeMonit(Board& board, RunnerPaths paths) {
  return std::make_unique<Monit>(board, std::move(paths));
}

}  // namespace lifeline::bench
