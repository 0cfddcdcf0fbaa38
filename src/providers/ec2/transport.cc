#include "providers/ec2/transport.h"

#include <curl/curl.h>

namespace lifeline::ec2 {

CurlTransport::CurlTransport(const Ec2Config& config,
                             std::unique_ptr<CredentialsProvider> credentials)
    : url_(config.EndpointUrl()),
      sigv4_("aws:amz:" + config.region + ":ec2"),
      connect_timeout_(config.connect_timeout),
      request_timeout_(config.request_timeout),
      credentials_(std::move(credentials)) {
  // Reference-counted in libcurl; must precede any handle on any thread.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  for (int i = 0; i < config.max_in_flight; ++i) {
    workers_.emplace_back([this] { Work(); });
  }
}

CurlTransport::~CurlTransport() {
  std::deque<Job> abandoned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    abandoned.swap(queue_);
  }
  abort_ = true;
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  for (Job& job : abandoned) {
    job.done(
        Unavailable("ec2: transport shut down before the request "
                    "was sent"));
  }
  curl_global_cleanup();
}

void CurlTransport::Send(std::string body, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(body), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Unavailable("ec2: transport is shutting down"));
}

void CurlTransport::Work() {
  CurlHttp http;
  http.set_abort_flag(&abort_);
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.done(Perform(http, job.body));
  }
}

Result<HttpResponse> CurlTransport::Perform(CurlHttp& http,
                                            const std::string& body) {
  Result<AwsCredentials> creds = credentials_->Get();
  if (!creds.ok()) return creds.status();
  HttpRequest req;
  req.url = url_;
  req.body = body;
  req.aws_sigv4 = sigv4_;
  req.user_pwd = creds->access_key_id + ":" + creds->secret_access_key;
  req.connect_timeout = connect_timeout_;
  req.timeout = request_timeout_;
  req.headers.push_back(
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
  if (!creds->session_token.empty()) {
    req.headers.push_back("X-Amz-Security-Token: " + creds->session_token);
  }
  return http.Perform(req);
}

}  // namespace lifeline::ec2
