// process-bench-workload: the instance every supervisor runs in the
// process benchmarks (bench/process_bench.cc). It is a small sleeping
// process that tells the benchmark when it started, so that "replacement
// exec'd" is measured the same way for Lifeline, supervisord and monit.
//
//   process-bench-workload [--fork] REPORT_SOCKET NAME [PIDFILE]
//
// --fork: the process forks, the parent exits at once and the child goes on
// in a new session, as a daemon does; monit's start program must return.
//
// At start it sends one datagram "NAME PID MONOTONIC_NS" to the Unix
// datagram socket REPORT_SOCKET (LIFELINE_INSTANCE_ID, when set, replaces
// NAME), writes PIDFILE when given (monit watches pidfiles), and then
// sleeps until SIGTERM/SIGINT. With LIFELINE_HEARTBEAT_ADDR in its
// environment (the process provider sets it) it sends a heartbeat every
// interval through the SDK instead of sleeping idle; a SIGSTOP therefore
// silences it, which is what B6 measures.
#include <lifeline/heartbeat.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

volatile sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }

long long MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Blocking send: the benchmark drains the socket continuously, and a full
// queue must delay the report, never drop it.
void Report(const char* socket_path, const char* name, long long started) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
  char msg[256];
  int n = std::snprintf(msg, sizeof msg, "%s %d %lld", name,
                        static_cast<int>(::getpid()), started);
  if (n > 0) {
    (void)::sendto(fd, msg, static_cast<size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ::close(fd);
}

void WritePidfile(const char* path) {
  char tmp[4096];
  std::snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (FILE* f = std::fopen(tmp, "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
    std::fclose(f);
    std::rename(tmp, path);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long long started = MonotonicNs();
  if (argc > 1 && std::strcmp(argv[1], "--fork") == 0) {
    pid_t child = ::fork();
    if (child < 0) return 1;
    if (child > 0) return 0;
    ::setsid();
    --argc;
    ++argv;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s [--fork] REPORT_SOCKET NAME [PIDFILE]\n",
                 argv[0]);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  if (argc > 3) WritePidfile(argv[3]);
  const char* id = std::getenv("LIFELINE_INSTANCE_ID");
  Report(argv[1], id ? id : argv[2], started);

  lifeline_hb* hb = nullptr;
  char error[256] = "";
  if (std::getenv("LIFELINE_HEARTBEAT_ADDR") &&
      lifeline_hb_open_env(&hb, error, sizeof error) != 0) {
    std::fprintf(stderr, "bench_process_workload: no heartbeats: %s\n", error);
    hb = nullptr;
  }
  if (hb == nullptr) {
    while (!g_stop) ::pause();
    return 0;
  }
  uint32_t ms = lifeline_hb_interval_ms(hb);
  while (!g_stop) {
    (void)lifeline_hb_beat(hb, LIFELINE_HB_OK);
    timespec ts{static_cast<time_t>(ms / 1000),
                static_cast<long>((ms % 1000) * 1000000L)};
    nanosleep(&ts, nullptr);
  }
  lifeline_hb_close(hb);
  return 0;
}
