// HealthProber: application monitoring for lifeline-agent. Runs a health
// command or an HTTP GET per instance every probe interval and reports the
// verdict, which becomes the status field of the instance's heartbeats.
//
//   command: run with /bin/sh -c, "{id}" replaced by the instance id;
//            exit 0 = ok, exit 1 = degraded, anything else = failing;
//   http:    "http://host:port/path" ("{id}" replaced too);
//            2xx = ok, 429/503 = degraded, anything else = failing.
// A probe that outlives the timeout is killed and counts as failing.
//
// Commands run as children watched through pidfds on the loop; HTTP
// requests run on one worker thread and post results back to the loop.
//
// Thread-safety: construct, Start and destroy on the loop's thread, and
// destroy only after the loop has stopped running; the callback runs on
// the loop's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "heartbeat/wire.h"

namespace lifeline::agent {

struct ProbeConfig {
  std::string command;   // empty: none
  std::string http_url;  // empty: none
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(1);
};

// Exit code of a health command -> status.
heartbeat::AppStatus StatusOfExitCode(int code);
// HTTP status code (0: no response) -> status.
heartbeat::AppStatus StatusOfHttpCode(int code);
// "{id}" -> id, everywhere in text.
std::string SubstituteId(const std::string& text, const std::string& id);

class HealthProber {
 public:
  using Callback = std::function<void(size_t instance, heartbeat::AppStatus,
                                      const std::string& why)>;
  HealthProber(EventLoop& loop, ProbeConfig config,
               std::vector<std::string> ids, Callback on_result);
  ~HealthProber();
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  // Starts probing now and every interval. InvalidArgument for a bad URL.
  Status Start();

 private:
  struct Child {
    int pid = -1;
    int pidfd = -1;
    EventLoop::TimerId timeout = EventLoop::kNoTimer;
  };
  void Round();
  void SpawnCommand(size_t i);
  void Reap(size_t i, bool timed_out);
  void HttpWorker();

  EventLoop& loop_;
  ProbeConfig config_;
  std::vector<std::string> ids_;
  Callback on_result_;
  std::vector<Child> children_;
  std::function<void()> round_;
  std::string http_base_, http_path_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> http_queue_;  // guarded by mu_
  std::vector<bool> http_busy_;    // loop thread only
  bool stop_ = false;              // guarded by mu_
  std::thread http_thread_;
};

}  // namespace lifeline::agent
