// lifeline-example-app: a small service for the tour. It sends heartbeats
// through the Lifeline SDK (include/lifeline/heartbeat.h) using the
// LIFELINE_* environment the process provider gives it, and counts its
// lifetimes in its data directory (which replacements inherit when
// snapshots are configured).
//
// Tell it to misbehave:
//   kill -USR1 PID   hang: keeps running, stops heartbeating
//   kill -USR2 PID   toggle "failing": heartbeats say it cannot do its job
//   kill -9 PID      die
// Without LIFELINE_HEARTBEAT_ADDR it just runs (and says so).
#include <lifeline/heartbeat.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

namespace {

std::atomic<bool> g_hang{false};
std::atomic<bool> g_failing{false};
std::atomic<bool> g_stop{false};

void OnSignal(int sig) {
  if (sig == SIGUSR1) g_hang = true;
  if (sig == SIGUSR2) g_failing = !g_failing;
  if (sig == SIGTERM || sig == SIGINT) g_stop = true;
}

void Pause(uint32_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000),
              static_cast<long>((ms % 1000) * 1000000L)};
  nanosleep(&ts, nullptr);
}

int Lifetimes() {
  const char* dir = std::getenv("LIFELINE_DATA_DIR");
  if (!dir) return 0;
  std::string path = std::string(dir) + "/lifetimes";
  int n = 0;
  std::ifstream(path) >> n;
  std::ofstream(path, std::ios::trunc) << n + 1 << "\n";
  return n + 1;
}

}  // namespace

int main() {
  std::signal(SIGUSR1, OnSignal);
  std::signal(SIGUSR2, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  const char* id = std::getenv("LIFELINE_INSTANCE_ID");
  std::printf("example-app %s: starting (lifetime %d in this data dir)\n",
              id ? id : "(no id)", Lifetimes());
  std::fflush(stdout);

  lifeline_hb* hb = nullptr;
  char error[256] = "";
  if (std::getenv("LIFELINE_HEARTBEAT_ADDR") &&
      lifeline_hb_open_env(&hb, error, sizeof error) != 0) {
    std::fprintf(stderr, "example-app: heartbeats disabled: %s\n", error);
  }
  uint32_t interval = hb ? lifeline_hb_interval_ms(hb) : 1000;
  bool said_hang = false;
  while (!g_stop) {
    if (g_hang) {
      if (!said_hang) {
        std::printf("example-app: hanging (no more heartbeats)\n");
        std::fflush(stdout);
        said_hang = true;
      }
    } else if (hb) {
      lifeline_hb_status st =
          g_failing ? LIFELINE_HB_FAILING : LIFELINE_HB_OK;
      if (lifeline_hb_beat_load(hb, st, g_failing ? 1.0 : 0.0, 5.0) != 0) {
        std::fprintf(stderr, "example-app: heartbeat: %s\n",
                     lifeline_hb_last_error(hb));
      }
    }
    Pause(interval);
  }
  std::printf("example-app: stopping\n");
  lifeline_hb_close(hb);
  return 0;
}
