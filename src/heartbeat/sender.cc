#include "heartbeat/sender.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lifeline::heartbeat {

Status SplitHostPort(const std::string& address, std::string* host,
                     std::string* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 >= address.size()) {
    return InvalidArgument("heartbeat address " + address +
                           ": expected host:port");
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  if (h.empty()) {
    return InvalidArgument("heartbeat address " + address + ": empty host");
  }
  *host = h;
  *port = address.substr(colon + 1);
  return Status::Ok();
}

Result<std::unique_ptr<HeartbeatSender>> HeartbeatSender::Create(
    const SenderOptions& options, const Clock& clock) {
  std::string host, port;
  LIFELINE_RETURN_IF_ERROR(SplitHostPort(options.address, &host, &port));
  auto mac = HmacSha256::Create(options.secret);
  if (!mac.ok()) return mac.status();
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Unavailable("heartbeat sender: resolve " + options.address + ": " +
                       gai_strerror(rc));
  }
  std::unique_ptr<HeartbeatSender> s(new HeartbeatSender(options, clock));
  for (addrinfo* ai = res; ai != nullptr && s->fd_ < 0; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      s->fd_ = fd;
    } else {
      close(fd);
    }
  }
  freeaddrinfo(res);
  if (s->fd_ < 0) {
    return Unavailable("heartbeat sender: connect " + options.address + ": " +
                       std::strerror(errno));
  }
  s->mac_ = std::move(mac.value());
  s->next_seq_ = static_cast<uint64_t>(ToWireMicros(clock.WallNow()));
  return s;
}

HeartbeatSender::~HeartbeatSender() {
  if (fd_ >= 0) close(fd_);
}

Status HeartbeatSender::BuildRound(
    std::span<HeartbeatEntry> entries,
    std::vector<std::vector<uint8_t>>* datagrams) {
  datagrams->clear();
  uint64_t seq = next_seq_++;
  int64_t now_us = ToWireMicros(clock_.WallNow());
  uint32_t interval_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(options_.interval)
          .count());
  size_t limit =
      std::max(options_.max_datagram_bytes, kHeaderBytes + kTagBytes + 100);
  size_t begin = 0;
  while (begin < entries.size()) {
    size_t bytes = kHeaderBytes + kTagBytes;
    size_t end = begin;
    while (end < entries.size() && end - begin < kMaxEntries) {
      HeartbeatEntry& e = entries[end];
      e.seq = seq;
      e.sent_at_us = now_us;
      e.interval_us = interval_us;
      size_t b = EncodedEntryBytes(e);
      if (end > begin && bytes + b > limit) break;
      bytes += b;
      ++end;
    }
    std::vector<uint8_t> d;
    DropReason r = EncodeUnsigned(options_.key_id,
                                  entries.subspan(begin, end - begin), &d);
    if (r != DropReason::kNone) {
      return InvalidArgument("heartbeat sender: encode entry for " +
                             std::string(entries[begin].instance_id) + ": " +
                             std::string(ToString(r)));
    }
    uint8_t tag[kTagBytes];
    if (!mac_->Tag(d, tag)) return Internal("heartbeat sender: HMAC failed");
    d.insert(d.end(), tag, tag + kTagBytes);
    datagrams->push_back(std::move(d));
    begin = end;
  }
  return Status::Ok();
}

Status HeartbeatSender::Send(std::span<HeartbeatEntry> entries) {
  LIFELINE_RETURN_IF_ERROR(BuildRound(entries, &scratch_));
  Status result;
  for (const auto& d : scratch_) {
    if (send(fd_, d.data(), d.size(), 0) < 0) {
      result = Unavailable("heartbeat sender: send to " + options_.address +
                           ": " + std::strerror(errno));
    } else {
      ++datagrams_sent_;
    }
  }
  return result;
}

}  // namespace lifeline::heartbeat
