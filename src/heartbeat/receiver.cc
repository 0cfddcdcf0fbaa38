#include "heartbeat/receiver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "heartbeat/sender.h"

namespace lifeline::heartbeat {

struct UdpReceiver::Worker {
  std::unique_ptr<RealLoop> loop;
  std::unique_ptr<DatagramProcessor> processor;
  std::vector<int> fds;
  std::thread thread;
  std::atomic<int64_t> drained_ns{0};  // MonoTime since epoch
  // recvmmsg buffers, reused every call.
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<std::span<const uint8_t>> received;  // views of one batch
  std::function<void()> idle;  // re-arms itself on the loop
};

namespace {

std::string Describe(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  char out[INET6_ADDRSTRLEN + 16];
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "%s:%d", host, ntohs(in->sin_port));
  } else {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    std::snprintf(out, sizeof out, "[%s]:%d", host, ntohs(in6->sin6_port));
  }
  return out;
}

}  // namespace

UdpReceiver::UdpReceiver(ReceiverConfig config, const Clock& clock,
                         ShardedDetector& detector, const KeyStore& keys,
                         Duration clock_skew)
    : config_(std::move(config)),
      clock_(clock),
      detector_(detector),
      keys_(keys),
      clock_skew_(clock_skew) {}

UdpReceiver::~UdpReceiver() { Stop(); }

Status UdpReceiver::OpenSockets(Worker& w, bool first) {
  for (size_t i = 0; i < config_.bind_addresses.size(); ++i) {
    const std::string& address = config_.bind_addresses[i];
    std::string host, port;
    LIFELINE_RETURN_IF_ERROR(SplitHostPort(address, &host, &port));
    // Later threads bind the port thread 0 actually got (port 0 resolves).
    if (!first) {
      std::string h, p;
      if (SplitHostPort(local_[i], &h, &p).ok()) port = p;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      return InvalidArgument("heartbeat receiver: bind address " + address +
                             ": " + gai_strerror(rc));
    }
    int fd =
        socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      freeaddrinfo(res);
      return Unavailable("heartbeat receiver: socket for " + address + ": " +
                         std::strerror(errno));
    }
    int one = 1;
    if (res->ai_family == AF_INET6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (config_.reuse_port) {
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    int want = config_.rcvbuf_bytes;
    // SO_RCVBUFFORCE passes rmem_max when privileged; else SO_RCVBUF caps.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
    int got = 0;
    socklen_t len = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
    effective_rcvbuf_ = got;
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
      int err = errno;
      freeaddrinfo(res);
      close(fd);
      return Unavailable("heartbeat receiver: bind " + address + ": " +
                         std::strerror(err));
    }
    freeaddrinfo(res);
    if (first) {
      sockaddr_storage ss{};
      socklen_t sl = sizeof ss;
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
      local_.push_back(Describe(reinterpret_cast<sockaddr*>(&ss)));
    }
    w.fds.push_back(fd);
  }
  return Status::Ok();
}

void UdpReceiver::Drain(Worker& w, int fd) {
  MonoTime start = clock_.Now();
  for (;;) {
    for (size_t i = 0; i < w.msgs.size(); ++i) {
      w.msgs[i].msg_hdr.msg_iov = &w.iov[i];
      w.msgs[i].msg_hdr.msg_iovlen = 1;
      w.msgs[i].msg_len = 0;
    }
    int n = recvmmsg(fd, w.msgs.data(), static_cast<unsigned>(w.msgs.size()),
                     MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // EAGAIN: drained; other errors: try next wake-up
    MonoTime now = clock_.Now();
    WallTime wall = clock_.WallNow();
    w.received.clear();
    for (int i = 0; i < n; ++i) {
      w.received.emplace_back(w.buffers[i].data(), w.msgs[i].msg_len);
    }
    w.processor->ProcessBatch(w.received, now, wall);
    if (n < static_cast<int>(w.msgs.size())) break;
  }
  w.drained_ns.store(start.time_since_epoch().count(),
                     std::memory_order_release);
}

Status UdpReceiver::Start() {
  if (started_)
    return FailedPrecondition("heartbeat receiver: already started");
  if (config_.threads < 1) config_.threads = 1;
  if (config_.threads > 1 && !config_.reuse_port) {
    return InvalidArgument(
        "heartbeat receiver: threads > 1 needs reuse_port (one socket each)");
  }
  if (config_.bind_addresses.empty()) {
    return InvalidArgument("heartbeat receiver: no bind address");
  }
  for (int t = 0; t < config_.threads; ++t) {
    auto w = std::make_unique<Worker>();
    w->loop = std::make_unique<RealLoop>(clock_);
    if (!w->loop->init_status().ok()) return w->loop->init_status();
    counters_.push_back(std::make_unique<ReceiverCounters>());
    w->processor = std::make_unique<DatagramProcessor>(
        detector_, keys_, clock_skew_, *counters_.back());
    Status s = OpenSockets(*w, t == 0);
    workers_.push_back(std::move(w));
    if (!s.ok()) {
      Stop();
      return s;
    }
  }
  for (auto& wp : workers_) {
    Worker& w = *wp;
    size_t batch = static_cast<size_t>(std::max(1, config_.batch));
    w.buffers.assign(batch, std::vector<uint8_t>(kMaxDatagramBytes + 1));
    w.iov.resize(batch);
    w.msgs.assign(batch, mmsghdr{});
    for (size_t i = 0; i < batch; ++i) {
      w.iov[i] = iovec{w.buffers[i].data(), w.buffers[i].size()};
    }
    w.drained_ns.store(clock_.Now().time_since_epoch().count());
    for (int fd : w.fds) {
      Status s = w.loop->WatchFd(fd, EPOLLIN,
                                 [this, &w, fd](uint32_t) { Drain(w, fd); });
      if (!s.ok()) {
        Stop();
        return s;
      }
    }
    // When idle, still mark time: nothing was queued, so all is drained.
    w.idle = [this, &w]() {
      for (int fd : w.fds) Drain(w, fd);
      w.loop->RunAfter(config_.idle_wake, w.idle);
    };
    w.loop->RunAfter(config_.idle_wake, w.idle);
  }
  for (auto& wp : workers_) {
    Worker* w = wp.get();
    w->thread = std::thread([w] { w->loop->Run(); });
  }
  started_ = true;
  return Status::Ok();
}

void UdpReceiver::Stop() {
  for (auto& w : workers_) {
    if (w->loop) w->loop->Stop();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    for (int fd : w->fds) close(fd);
    w->fds.clear();
  }
  workers_.clear();
  started_ = false;
}

MonoTime UdpReceiver::drained_until() const {
  if (workers_.empty()) return clock_.Now();
  int64_t m = INT64_MAX;
  for (const auto& w : workers_) {
    m = std::min(m, w->drained_ns.load(std::memory_order_acquire));
  }
  return MonoTime(Duration(m));
}

}  // namespace lifeline::heartbeat
