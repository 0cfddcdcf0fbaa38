// The API's route table: every method and path the server answers, with
// the role it needs. openapi.yaml documents exactly these (checked by
// openapi_test.cc), and ApiServer binds a handler to each.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/role.h"

namespace lifeline {

struct ApiRoute {
  std::string method;  // "GET", "PUT", "POST", "PATCH", "DELETE"
  std::string path;    // OpenAPI form: "/v1/groups/{name}"
  // The role needed; nullopt for the unauthenticated endpoints (/healthz,
  // /readyz, /openapi.yaml).
  std::optional<Role> role;
};

// Every route, in a stable order. `with_zonal_shifts` adds the
// /v1/zonal-shifts routes (served when the host runs zonal shifts).
std::vector<ApiRoute> ApiRoutes(bool with_zonal_shifts = true);

// The cpp-httplib regex for an OpenAPI path: "{name}" -> "([^/]+)".
std::string PathRegex(const std::string& openapi_path);
// Whether a request path matches an OpenAPI path ("{name}" matches one
// non-empty segment).
bool PathMatches(const std::string& openapi_path, const std::string& path);

}  // namespace lifeline
