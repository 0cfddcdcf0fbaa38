// MotoServer: a moto_server (EC2 API emulator) child process on a free
// loopback port, for end-to-end tests of the EC2 provider.
//
// Start() finds moto_server on PATH, launches it in its own process group,
// and waits (with a deadline) until it reports it is serving; a thread
// drains its output so it never blocks on a full pipe. The destructor
// terminates exactly that process group and reaps it.
//
// Thread-safety: Reset()/endpoint() from any one thread at a time.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace lifeline::ec2 {

class MotoServer {
 public:
  // kNotFound when moto_server is not on PATH (tests skip then);
  // kUnavailable when it did not come up within `timeout`.
  // extra_env: "NAME=value" entries added to moto's environment (e.g.
  // INITIAL_NO_AUTH_ACTION_COUNT=3 makes it verify signatures after three
  // requests).
  static Result<std::unique_ptr<MotoServer>> Start(
      Duration timeout, const std::vector<std::string>& extra_env = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  // "http://127.0.0.1:<port>"
  const std::string& endpoint() const { return endpoint_; }
  // Forgets every resource (POST /moto-api/reset).
  Status Reset();
  // What moto printed so far (for failure messages).
  std::string Output();

 private:
  MotoServer() = default;
  void Drain();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string endpoint_;
  std::thread drainer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;  // guarded by mu_
  bool eof_ = false;    // guarded by mu_
};

// The full path of `program` on PATH, or "".
std::string FindOnPath(const std::string& program);

// Runs the AWS CLI against an emulator, as an operator would behind
// Lifeline's back: "aws --endpoint-url <endpoint> --output text ec2 <args>"
// through /bin/sh (so `args` may quote), with test credentials and `region`.
// Returns the output with trailing whitespace trimmed, or kInternal naming
// the command and what it printed when it exits non-zero.
Result<std::string> AwsCli(const std::string& endpoint,
                           const std::string& region, const std::string& args);

}  // namespace lifeline::ec2
