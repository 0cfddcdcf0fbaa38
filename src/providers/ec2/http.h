// CurlHttp: one blocking libcurl easy handle, reused across requests so that
// connections stay alive. Used on worker threads only (never on the loop).
//
// Thread-safety: none; one handle per thread.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

using CURL = void;

namespace lifeline::ec2 {

struct HttpRequest {
  std::string method = "POST";  // POST, GET or PUT
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  // When set, libcurl signs with SigV4: "aws:amz:<region>:<service>", and
  // user_pwd is "<access key id>:<secret access key>".
  std::string aws_sigv4;
  std::string user_pwd;
  Duration connect_timeout = seconds(3);
  Duration timeout = seconds(20);
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string amz_request_id;  // x-amzn-requestid / x-amz-request-id
};

class CurlHttp {
 public:
  CurlHttp();
  ~CurlHttp();
  CurlHttp(const CurlHttp&) = delete;
  CurlHttp& operator=(const CurlHttp&) = delete;

  // Any HTTP status is a response; only transport failures are errors:
  // kDeadlineExceeded for timeouts, kUnavailable for everything else
  // (refused, reset, DNS), each naming the method and URL.
  Result<HttpResponse> Perform(const HttpRequest& request);

  // While *abort is true, transfers stop at the next progress check
  // (kUnavailable, "aborted"). abort must outlive this object.
  void set_abort_flag(const std::atomic<bool>* abort) { abort_ = abort; }

 private:
  CURL* curl_;
  const std::atomic<bool>* abort_ = nullptr;
};

}  // namespace lifeline::ec2
