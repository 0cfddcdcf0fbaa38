// Helpers for tests that talk to a running ApiServer over loopback.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace lifeline {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
  nlohmann::json json;  // parsed body when it is JSON, else null
};

// One request; status 0 when the connection failed.
inline HttpReply Call(int port, const std::string& method,
                      const std::string& path, const std::string& token = "",
                      const std::string& body = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(std::chrono::seconds(10));
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  httplib::Result r(nullptr, httplib::Error::Unknown);
  if (method == "GET") r = c.Get(path.c_str(), h);
  if (method == "DELETE") r = c.Delete(path.c_str(), h);
  if (method == "PUT") r = c.Put(path.c_str(), h, body, "application/json");
  if (method == "POST") r = c.Post(path.c_str(), h, body, "application/json");
  if (method == "PATCH") r = c.Patch(path.c_str(), h, body, "application/json");
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.content_type = r->get_header_value("Content-Type");
  out.body = r->body;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

// Polls `done` until it holds or `timeout` passes (real time: the server
// under test runs on real threads).
inline bool WaitUntil(
    const std::function<bool()>& done,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  for (auto waited = std::chrono::milliseconds(0); waited < timeout;
       waited += std::chrono::milliseconds(5)) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace lifeline
