#include "providers/ec2/http.h"

#include <curl/curl.h>

#include <cctype>

namespace lifeline::ec2 {
namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    if (name == "x-amzn-requestid" || name == "x-amz-request-id") {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
        v.remove_prefix(1);
      }
      while (!v.empty() &&
             (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
        v.remove_suffix(1);
      }
      static_cast<HttpResponse*>(user)->amz_request_id = std::string(v);
    }
  }
  return size * n;
}

int AbortCheck(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

long Millis(Duration d) {
  return static_cast<long>(std::chrono::duration_cast<milliseconds>(d).count());
}

}  // namespace

CurlHttp::CurlHttp() : curl_(curl_easy_init()) {}

CurlHttp::~CurlHttp() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

Result<HttpResponse> CurlHttp::Perform(const HttpRequest& request) {
  std::string what = request.method + " " + request.url;
  if (curl_ == nullptr) return Internal(what + ": curl_easy_init failed");
  curl_easy_reset(curl_);
  HttpResponse response;
  curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                   Millis(request.connect_timeout));
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, Millis(request.timeout));
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
  if (abort_ != nullptr) {
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, AbortCheck);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, abort_);
  }
  if (request.method == "POST") {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  }
  if (!request.aws_sigv4.empty()) {
    curl_easy_setopt(curl_, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
    curl_easy_setopt(curl_, CURLOPT_USERPWD, request.user_pwd.c_str());
  }
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  // No "Expect:" override here: libcurl's SigV4 signs every header it is
  // given, even an empty one that only removes a default, and a header that
  // is signed but never sent fails verification (AuthFailure). Bodies over
  // curl's threshold use Expect: 100-continue (unsigned); bound its wait.
  curl_easy_setopt(curl_, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl_);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    std::string msg = what + ": " + curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return DeadlineExceeded(msg);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      return Unavailable(what + ": aborted: shutting down");
    }
    return Unavailable(msg);
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace lifeline::ec2
