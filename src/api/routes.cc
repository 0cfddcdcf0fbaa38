#include "api/routes.h"

namespace lifeline {

std::vector<ApiRoute> ApiRoutes(bool with_zonal_shifts) {
  const Role V = Role::kViewer, O = Role::kOperator, A = Role::kAdmin;
  std::vector<ApiRoute> r = {
      {"GET", "/healthz", std::nullopt},
      {"GET", "/readyz", std::nullopt},
      {"GET", "/openapi.yaml", std::nullopt},
      {"GET", "/metrics", V},
      {"GET", "/v1/status", V},
      {"GET", "/v1/groups", V},
      {"GET", "/v1/groups/{name}", V},
      {"PUT", "/v1/groups/{name}", A},
      {"DELETE", "/v1/groups/{name}", A},
      {"POST", "/v1/groups/{name}/desired-capacity", O},
      {"PUT", "/v1/groups/{name}/freeze", O},
      {"GET", "/v1/instances", V},
      {"GET", "/v1/instances/{id}", V},
      {"POST", "/v1/instances/{id}/health", O},
      {"GET", "/v1/workflows", V},
      {"GET", "/v1/freeze", V},
      {"PUT", "/v1/freeze", O},
      {"GET", "/v1/events", V},
      {"GET", "/v1/events/stream", V},
      {"GET", "/v1/preview", V},
      {"GET", "/v1/why/{id}", V},
  };
  if (with_zonal_shifts) {
    r.push_back({"GET", "/v1/zonal-shifts", V});
    r.push_back({"POST", "/v1/zonal-shifts", O});
    r.push_back({"PATCH", "/v1/zonal-shifts/{id}", O});
    r.push_back({"DELETE", "/v1/zonal-shifts/{id}", O});
    r.push_back({"GET", "/v1/autoshift", V});
    r.push_back({"GET", "/v1/practice-runs", V});
    r.push_back({"POST", "/v1/practice-runs", O});
    r.push_back({"DELETE", "/v1/practice-runs/{id}", O});
  }
  return r;
}

std::string PathRegex(const std::string& path) {
  std::string out;
  bool in_param = false;
  for (char c : path) {
    if (c == '{') {
      in_param = true;
      out += "([^/]+)";
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      if (c == '.' || c == '*' || c == '+' || c == '?' || c == '(' ||
          c == ')' || c == '[' || c == ']' || c == '$' || c == '^' ||
          c == '|' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
  }
  return out;
}

bool PathMatches(const std::string& tmpl, const std::string& path) {
  size_t i = 0, j = 0;
  while (i < tmpl.size() && j < path.size()) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close == std::string::npos) return false;
      size_t end = path.find('/', j);
      if (end == std::string::npos) end = path.size();
      if (end == j) return false;
      i = close + 1;
      j = end;
    } else if (tmpl[i] == path[j]) {
      ++i;
      ++j;
    } else {
      return false;
    }
  }
  return i == tmpl.size() && j == path.size();
}

}  // namespace lifeline
