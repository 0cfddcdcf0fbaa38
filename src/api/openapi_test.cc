// openapi.yaml and the server agree: every path+method in the document is
// routed by the server, every route is documented, and the served document
// is the one in the repository.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "api/api_server.h"
#include "api/api_test_util.h"
#include "api/fake_backend.h"
#include "api/handlers.h"
#include "api/routes.h"

namespace lifeline {
namespace {

std::set<std::string> Documented(const YAML::Node& doc) {
  std::set<std::string> out;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      for (auto& c : method) c = static_cast<char>(std::toupper(c));
      out.insert(method + " " + path.first.as<std::string>());
    }
  }
  return out;
}

TEST(OpenApi, DocumentsExactlyTheServersRoutes) {
  YAML::Node doc = YAML::Load(std::string(OpenApiYaml()));
  ASSERT_TRUE(doc["openapi"]) << "not an OpenAPI document";
  std::set<std::string> routed;
  for (const auto& r : ApiRoutes(true)) routed.insert(r.method + " " + r.path);
  std::set<std::string> documented = Documented(doc);
  for (const auto& r : routed) {
    EXPECT_TRUE(documented.count(r)) << r << " is routed but not documented";
  }
  for (const auto& d : documented) {
    EXPECT_TRUE(routed.count(d)) << d << " is documented but not routed";
  }
}

TEST(OpenApi, EveryOperationDocumentsItsErrorsAndAuth) {
  YAML::Node doc = YAML::Load(std::string(OpenApiYaml()));
  for (const auto& r : ApiRoutes(true)) {
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    YAML::Node op = doc["paths"][r.path][method];
    ASSERT_TRUE(op) << r.path;
    EXPECT_TRUE(op["operationId"]) << r.method << " " << r.path;
    EXPECT_TRUE(op["responses"]) << r.method << " " << r.path;
    if (r.role) {
      EXPECT_TRUE(op["responses"]["401"]) << r.method << " " << r.path;
      EXPECT_TRUE(op["responses"]["403"]) << r.method << " " << r.path;
      // The required role is stated in the operation.
      ASSERT_TRUE(op["x-lifeline-role"]) << r.method << " " << r.path;
      EXPECT_EQ(op["x-lifeline-role"].as<std::string>(), ToString(*r.role))
          << r.method << " " << r.path;
    } else {
      EXPECT_TRUE(op["security"] && op["security"].size() == 0)
          << r.path << " needs no token: give it security: []";
    }
  }
}

TEST(OpenApi, EveryRouteIsServed) {
  FakeBackend backend;
  ApiServerOptions o;
  o.port = 0;
  ApiServer server(backend, o);
  ASSERT_TRUE(server.Start().ok());
  auto spec = Call(server.port(), "GET", "/openapi.yaml");
  EXPECT_EQ(spec.status, 200);
  EXPECT_EQ(spec.body, std::string(OpenApiYaml()));
  // Every route answers something other than "no such endpoint" / 405.
  for (const auto& r : ApiRoutes(true)) {
    if (r.path == "/v1/events/stream") continue;  // a stream, tested apart
    std::string path = r.path;
    for (auto p = path.find('{'); p != std::string::npos; p = path.find('{')) {
      path.replace(p, path.find('}', p) - p + 1, "x");
    }
    auto reply = Call(server.port(), r.method, path, "admin-token", "{}");
    EXPECT_NE(reply.status, 405) << r.method << " " << path;
    if (reply.status == 404) {
      EXPECT_EQ(reply.body.find("no such endpoint"), std::string::npos)
          << r.method << " " << path;
    }
  }
}

}  // namespace
}  // namespace lifeline
