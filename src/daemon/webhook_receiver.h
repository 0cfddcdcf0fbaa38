// A webhook receiver for daemon tests: a cpp-httplib server on loopback
// that records every POST to /hook with its signature headers.
#pragma once

#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/daemon_test_util.h"

namespace lifeline {

// Collects webhook POSTs with their signature headers.
class WebhookReceiver {
 public:
  // Answers the first `fail_first` requests with 503.
  explicit WebhookReceiver(HistoryWaiter& waiter, int fail_first = 0)
      : waiter_(waiter), fail_first_(fail_first) {
    server_.Post("/hook",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     if (++requests_ <= fail_first_) {
                       res.status = 503;
                       return;
                     }
                     Got g;
                     g.body = nlohmann::json::parse(req.body, nullptr, false);
                     g.raw = req.body;
                     g.timestamp = req.get_header_value("X-Lifeline-Timestamp");
                     g.signature = req.get_header_value("X-Lifeline-Signature");
                     got_.push_back(std::move(g));
                   }
                   res.status = 204;
                   waiter_.Notify();
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }
  struct Got {
    nlohmann::json body;
    std::string raw, timestamp, signature;
  };
  std::vector<Got> got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  // The first delivery of `type` (for `instance` when given).
  std::optional<Got> Find(const std::string& type,
                          const std::string& instance = "") {
    for (const auto& g : got()) {
      if (!g.body.is_object()) continue;
      if (g.body["detail"]["type"] != type) continue;
      if (!instance.empty() && g.body["detail"]["instance"] != instance) {
        continue;
      }
      return g;
    }
    return std::nullopt;
  }

 private:
  HistoryWaiter& waiter_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  int fail_first_ = 0;
  int requests_ = 0;  // guarded by mu_
  std::vector<Got> got_;
};

}  // namespace lifeline
