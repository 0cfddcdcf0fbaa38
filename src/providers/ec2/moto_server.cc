#include "providers/ec2/moto_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "providers/ec2/http.h"

extern char** environ;

namespace lifeline::ec2 {
namespace {

// A loopback port nobody is listening on right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path == nullptr ? "" : path;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string full = dir + "/" + program;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

Result<std::unique_ptr<MotoServer>> MotoServer::Start(
    Duration timeout, const std::vector<std::string>& extra_env) {
  std::string exe = FindOnPath("moto_server");
  if (exe.empty()) return NotFound("moto_server is not on PATH");
  int port = FreePort();
  if (port <= 0) return Unavailable("no free loopback port");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Unavailable("pipe failed");

  std::unique_ptr<MotoServer> m(new MotoServer());
  m->endpoint_ = "http://127.0.0.1:" + std::to_string(port);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: we stop it whole
  std::string port_arg = std::to_string(port);
  std::vector<char*> argv = {const_cast<char*>(exe.c_str()),
                             const_cast<char*>("-H"),
                             const_cast<char*>("127.0.0.1"),
                             const_cast<char*>("-p"),
                             port_arg.data(),
                             nullptr};
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : extra_env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  int rc = posix_spawn(&m->pid_, exe.c_str(), &actions, &attr, argv.data(),
                       envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    m->pid_ = -1;
    return Unavailable("cannot start " + exe + ": errno " + std::to_string(rc));
  }
  m->out_fd_ = pipefd[0];
  m->drainer_ = std::thread([raw = m.get()] { raw->Drain(); });

  // Werkzeug announces " * Running on http://127.0.0.1:<port>".
  const std::string ready = "Running on " + m->endpoint_;
  std::unique_lock<std::mutex> lock(m->mu_);
  bool up = m->cv_.wait_for(lock, timeout, [&] {
    return m->eof_ || m->output_.find(ready) != std::string::npos;
  });
  if (!up || m->output_.find(ready) == std::string::npos) {
    std::string out = m->output_;
    lock.unlock();
    return Unavailable("moto_server did not come up on " + m->endpoint_ + ": " +
                       out);
  }
  return m;
}

void MotoServer::Drain() {
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    // Keep the start and the most recent output only.
    if (output_.size() > (1 << 20)) output_.erase(4096, output_.size() / 2);
    output_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

MotoServer::~MotoServer() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (drainer_.joinable()) drainer_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

Status MotoServer::Reset() {
  CurlHttp http;
  HttpRequest req;
  req.url = endpoint_ + "/moto-api/reset";
  auto r = http.Perform(req);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return Unavailable("moto reset returned HTTP " + std::to_string(r->status));
  }
  return Status::Ok();
}

Result<std::string> AwsCli(const std::string& endpoint,
                           const std::string& region, const std::string& args) {
  std::string cmd =
      "env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=test "
      "AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=" +
      region + " AWS_REGION=" + region + " AWS_PAGER= aws --endpoint-url " +
      endpoint + " --output text ec2 " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return Internal("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  if (rc != 0) {
    return Internal(cmd + " exited with " + std::to_string(rc) + ": " + out);
  }
  return out;
}

std::string MotoServer::Output() {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

}  // namespace lifeline::ec2
