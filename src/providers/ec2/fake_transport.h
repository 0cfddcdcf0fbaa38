// FakeTransport: a scripted Ec2Transport for unit tests. A handler maps each
// request body to a response; every body sent is recorded. done runs inside
// Send() (the client must still deliver asynchronously).
//
// Thread-safety: single-threaded tests only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/ec2/transport.h"

namespace lifeline::ec2 {

class FakeTransport final : public Ec2Transport {
 public:
  using Handler = std::function<Result<HttpResponse>(const std::string& body)>;

  // Shared so a test can keep scripting after handing the transport over.
  struct Script {
    Handler handler;
    std::vector<std::string> bodies;
  };

  explicit FakeTransport(std::shared_ptr<Script> script)
      : script_(std::move(script)) {}

  void Send(std::string body, Done done) override {
    script_->bodies.push_back(body);
    done(script_->handler(body));
  }

 private:
  std::shared_ptr<Script> script_;
};

// True when the form body is for `action` ("Action=RunInstances&...").
inline bool IsAction(const std::string& body, std::string_view action) {
  std::string prefix = "Action=" + std::string(action) + "&";
  return body.rfind(prefix, 0) == 0;
}

inline HttpResponse Xml(long status, std::string body) {
  return HttpResponse{status, std::move(body), ""};
}

inline HttpResponse ErrorXml(long status, std::string_view code,
                             std::string_view message,
                             std::string_view request_id = "req-1") {
  return Xml(status,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
             "<Error><Code>" +
                 std::string(code) + "</Code><Message>" + std::string(message) +
                 "</Message></Error></Errors>"
                 "<RequestID>" +
                 std::string(request_id) + "</RequestID></Response>");
}

}  // namespace lifeline::ec2
