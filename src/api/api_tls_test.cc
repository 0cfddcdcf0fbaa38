// The API over TLS, with a throwaway self-signed certificate.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>

#include "api/api_server.h"
#include "api/fake_backend.h"

namespace lifeline {
namespace {

TEST(ApiTls, ServesHttpsWithTheGivenCertificate) {
  if (!ApiTlsSupported()) GTEST_SKIP() << "cpp-httplib built without OpenSSL";
  char tmpl[] = "/tmp/lifeline-tls-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "no openssl command";

  FakeBackend backend;
  ApiServerOptions o;
  o.port = 0;
  o.tls_cert_file = dir + "/cert.pem";
  o.tls_key_file = dir + "/key.pem";
  ApiServer server(backend, o);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(server.tls());
  httplib::SSLClient c("127.0.0.1", server.port());
  c.enable_server_certificate_verification(false);
  auto r = c.Get("/v1/groups", {{"Authorization", "Bearer viewer-token"}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  // Plain HTTP to the TLS port gets nothing useful.
  httplib::Client plain("127.0.0.1", server.port());
  auto p = plain.Get("/healthz");
  EXPECT_TRUE(!p || p->status != 200);
  server.Stop();
  EXPECT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(ApiTls, RefusesToStartWithUnreadableOrHalfTlsConfig) {
  FakeBackend backend;
  ApiServerOptions o;
  o.port = 0;
  o.tls_cert_file = "/nonexistent/cert.pem";
  ApiServer half(backend, o);
  Status st = half.Start();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  o.tls_key_file = "/nonexistent/key.pem";
  ApiServer missing(backend, o);
  st = missing.Start();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
}

TEST(ApiServer, RefusesAnAddressInUse) {
  FakeBackend backend;
  ApiServerOptions o;
  o.port = 0;
  ApiServer first(backend, o);
  ASSERT_TRUE(first.Start().ok());
  o.port = first.port();
  ApiServer second(backend, o);
  EXPECT_EQ(second.Start().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lifeline
