// Ec2Transport: delivers one EC2 Query API request body and hands back the
// raw HTTP response. The seam between Ec2Client (retries, parsing, the
// loop) and the network: CurlTransport in production, a scripted fake in
// unit tests.
//
// CurlTransport runs a fixed pool of max_in_flight worker threads, each
// with its own reused curl handle, so at most that many requests are on the
// wire; further requests queue. Requests are POSTs signed by libcurl's
// SigV4 ("aws:amz:<region>:ec2"), with X-Amz-Security-Token for temporary
// credentials.
//
// Thread-safety: Send() is thread-safe. `done` runs exactly once, on a
// worker thread (or inside Send() for fakes); it must not block long.
// Destroying a CurlTransport aborts requests on the wire and fails queued
// ones, all with kUnavailable, and joins the workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "providers/ec2/config.h"
#include "providers/ec2/credentials.h"
#include "providers/ec2/http.h"

namespace lifeline::ec2 {

class Ec2Transport {
 public:
  using Done = std::function<void(Result<HttpResponse>)>;
  virtual ~Ec2Transport() = default;
  virtual void Send(std::string body, Done done) = 0;
};

class CurlTransport final : public Ec2Transport {
 public:
  CurlTransport(const Ec2Config& config,
                std::unique_ptr<CredentialsProvider> credentials);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  void Send(std::string body, Done done) override;

 private:
  struct Job {
    std::string body;
    Done done;
  };
  void Work();
  Result<HttpResponse> Perform(CurlHttp& http, const std::string& body);

  const std::string url_;
  const std::string sigv4_;
  const Duration connect_timeout_;
  const Duration request_timeout_;
  const std::unique_ptr<CredentialsProvider> credentials_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;           // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::atomic<bool> abort_{false};  // read by curl's progress callback
  std::vector<std::thread> workers_;
};

}  // namespace lifeline::ec2
