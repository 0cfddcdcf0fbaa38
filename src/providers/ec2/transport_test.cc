// CurlTransport over a real loopback socket: a server that accepts the
// connection and never answers pins a request on the wire.
#include "providers/ec2/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

namespace lifeline::ec2 {
namespace {

class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        listen(fd_, 4) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentServer() {
    if (conn_ >= 0) close(conn_);
    close(fd_);
  }
  int port() const { return port_; }
  // Waits (up to timeout_ms) for the client to connect; never replies.
  bool Accept(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    conn_ = accept(fd_, nullptr, nullptr);
    return conn_ >= 0;
  }

 private:
  int fd_ = -1;
  int conn_ = -1;
  int port_ = 0;
};

TEST(CurlTransport, ShutdownAbortsRequestsOnTheWireAndFailsQueuedOnes) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  Ec2Config config;
  config.region = "us-east-1";
  config.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  config.request_timeout = seconds(120);
  config.max_in_flight = 1;
  auto transport = std::make_unique<CurlTransport>(
      config, std::make_unique<StaticCredentialsProvider>(
                  AwsCredentials{"test", "test", "", std::nullopt}));
  std::promise<Result<HttpResponse>> on_wire, queued;
  transport->Send("Action=DescribeInstances&Version=2016-11-15",
                  [&](Result<HttpResponse> r) { on_wire.set_value(r); });
  transport->Send("Action=DescribeInstances&Version=2016-11-15",
                  [&](Result<HttpResponse> r) { queued.set_value(r); });
  ASSERT_TRUE(server.Accept(10000)) << "the request never connected";

  RealClock clock;
  MonoTime start = clock.Now();
  transport.reset();  // must not wait out the 120 s request timeout
  EXPECT_LT(clock.Now() - start, seconds(10));

  Result<HttpResponse> a = on_wire.get_future().get();
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(a.status().message().find("aborted"), std::string::npos)
      << a.status().message();
  Result<HttpResponse> b = queued.get_future().get();
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
}

TEST(CurlTransport, MissingCredentialsFailTheRequestNamingTheSource) {
  class NoCredentials final : public CredentialsProvider {
   public:
    Result<AwsCredentials> Get() override {
      return Unauthenticated("ec2: credentials from IMDS: no role");
    }
  };
  Ec2Config config;
  config.region = "us-east-1";
  config.endpoint = "http://127.0.0.1:1";
  config.max_in_flight = 1;
  CurlTransport transport(config, std::make_unique<NoCredentials>());
  std::promise<Result<HttpResponse>> got;
  transport.Send("Action=DescribeInstances",
                 [&](Result<HttpResponse> r) { got.set_value(r); });
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  Result<HttpResponse> r = future.get();
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("IMDS"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::ec2
