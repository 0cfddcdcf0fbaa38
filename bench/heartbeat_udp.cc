// Socket benchmarks over loopback: B1 (single authenticated heartbeats vs
// the raw recvmmsg ceiling measured in the same run; user-space ns per
// heartbeat at 1 M tracked) and B2 (batched instance-heartbeats/s).
// Run: build-release/bin/bench_heartbeat_udp [b1|b2 ...]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/report.h"
#include "core/clock.h"
#include "heartbeat/datagram_processor.h"
#include "heartbeat/mac.h"
#include "heartbeat/receiver.h"
#include "heartbeat/sharded_detector.h"
#include "heartbeat/wire.h"

namespace lifeline::bench {
namespace {

namespace hb = heartbeat;
using std::chrono::milliseconds;

const std::string kSecret(32, 's');
constexpr uint32_t kKeyId = 9;

// Datagrams back to back in one buffer.
struct Datagrams {
  std::vector<uint8_t> bytes;
  std::vector<size_t> offset, size;
  size_t count() const { return offset.size(); }
  std::span<const uint8_t> at(size_t i) const {
    return {bytes.data() + offset[i], size[i]};
  }
};

std::string IdOf(size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "i-%012zx", i);
  return id;
}

// Rounds of heartbeats for instances [0, n), `per` entries per datagram.
Datagrams Build(const RealClock& clock, size_t n, size_t per, uint64_t seq0,
                int rounds) {
  auto mac = hb::HmacSha256::Create(kSecret);
  Datagrams d;
  std::vector<std::string> ids(per);
  std::vector<hb::HeartbeatEntry> entries(per);
  std::vector<uint8_t> one;
  for (int r = 0; r < rounds; ++r) {
    int64_t now_us = hb::ToWireMicros(clock.WallNow());
    for (size_t first = 0; first < n; first += per) {
      size_t k = std::min(per, n - first);
      for (size_t j = 0; j < k; ++j) {
        ids[j] = IdOf(first + j);
        entries[j] = hb::HeartbeatEntry{};
        entries[j].instance_id = ids[j];
        entries[j].seq = seq0 + static_cast<uint64_t>(r);
        entries[j].sent_at_us = now_us;
        entries[j].interval_us = 100000;
      }
      one.clear();
      hb::EncodeUnsigned(kKeyId, std::span(entries.data(), k), &one);
      uint8_t tag[hb::kTagBytes];
      (*mac)->Tag(one, tag);
      d.offset.push_back(d.bytes.size());
      d.size.push_back(one.size() + hb::kTagBytes);
      d.bytes.insert(d.bytes.end(), one.begin(), one.end());
      d.bytes.insert(d.bytes.end(), tag, tag + hb::kTagBytes);
    }
  }
  return d;
}

struct Pipeline {
  explicit Pipeline(const RealClock& clock, size_t n)
      : detector(hb::DetectorConfig{}, 4, clock.Now()),
        processor(detector, keys, std::chrono::seconds(60), counters) {
    keys.Set(*hb::KeyRing::Create({{kKeyId, "bench", kSecret}}));
    for (size_t i = 0; i < n; ++i)
      (void)detector.Track(IdOf(i), "bench", clock.Now());
  }
  hb::KeyStore keys;
  hb::ShardedDetector detector;
  hb::ReceiverCounters counters;
  hb::DatagramProcessor processor;
};

// Feeds every datagram to the processor as the receiver does: `batch` at a
// time through ProcessBatch (batch 1: Process, one datagram at a time).
void ProcessAll(const RealClock& clock, Pipeline& p, const Datagrams& d,
                size_t batch) {
  std::vector<std::span<const uint8_t>> views;
  for (size_t i = 0; i < d.count(); i += batch) {
    size_t k = std::min(batch, d.count() - i);
    if (batch == 1) {
      p.processor.Process(d.at(i), clock.Now(), clock.WallNow());
      continue;
    }
    views.clear();
    for (size_t j = 0; j < k; ++j) views.push_back(d.at(i + j));
    p.processor.ProcessBatch(views, clock.Now(), clock.WallNow());
  }
}

// Sends every datagram once with sendmmsg (64 at a time) to port.
uint64_t Blast(const Datagrams& d, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::vector<iovec> iov(64);
  std::vector<mmsghdr> msgs(64);
  uint64_t sent = 0;
  for (size_t i = 0; i < d.count();) {
    size_t k = std::min<size_t>(64, d.count() - i);
    for (size_t j = 0; j < k; ++j) {
      auto s = d.at(i + j);
      iov[j] = iovec{const_cast<uint8_t*>(s.data()), s.size()};
      msgs[j] = mmsghdr{};
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, msgs.data(), static_cast<unsigned>(k), 0);
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
      i += static_cast<size_t>(n);
    }
  }
  close(fd);
  return sent;
}

// Waits until `count` stops moving for 300 ms; returns seconds from `start`
// to its last change.
double Settle(const RealClock& clock, MonoTime start,
              const std::function<uint64_t()>& count) {
  uint64_t last = count();
  MonoTime last_change = clock.Now();
  for (;;) {
    std::this_thread::sleep_for(milliseconds(2));
    uint64_t c = count();
    MonoTime now = clock.Now();
    if (c != last) {
      last = c;
      last_change = now;
    } else if (now - last_change > milliseconds(300)) {
      return ToSeconds(last_change - start);
    }
  }
}

// The raw ceiling: a thread that only recvmmsg()s and counts.
struct RawReceiver {
  RawReceiver() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    int want = 16 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread = std::thread([this] {
      std::vector<std::vector<uint8_t>> bufs(64, std::vector<uint8_t>(65536));
      std::vector<iovec> iov(64);
      std::vector<mmsghdr> msgs(64);
      while (!stop.load()) {
        for (size_t i = 0; i < 64; ++i) {
          iov[i] = iovec{bufs[i].data(), bufs[i].size()};
          msgs[i] = mmsghdr{};
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs.data(), 64, MSG_WAITFORONE, nullptr);
        if (n > 0) received.fetch_add(static_cast<uint64_t>(n));
      }
    });
  }
  ~RawReceiver() {
    stop = true;
    thread.join();
    close(fd);
  }
  int fd, port;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread thread;
};

uint64_t Accepted(const hb::UdpReceiver& r) {
  uint64_t n = 0;
  for (const auto& c : r.counters()) n += c->entries_accepted.load();
  return n;
}
uint64_t Received(const hb::UdpReceiver& r) {
  uint64_t n = 0;
  for (const auto& c : r.counters()) n += c->datagrams.load();
  return n;
}

void B1() {
  constexpr size_t kN = 1'000'000;
  RealClock clock;
  Pipeline p(clock, kN);
  // First heartbeats (the "first heartbeat" transition path), untimed.
  {
    Datagrams first = Build(clock, kN, 1, 1, 1);
    for (size_t i = 0; i < first.count(); ++i) {
      p.processor.Process(first.at(i), clock.Now(), clock.WallNow());
    }
  }
  // User space per heartbeat at 1 M tracked: parse + HMAC + skew + detector,
  // one datagram at a time, then 64 at a time as one recvmmsg delivers them
  // to the receiver (lookups of the batch overlap; one lock per shard).
  uint64_t seq = 2;
  for (size_t batch : {size_t{1}, size_t{64}}) {
    Datagrams d = Build(clock, kN, 1, seq++, 1);
    uint64_t before = p.counters.entries_accepted.load();
    MonoTime start = clock.Now();
    ProcessAll(clock, p, d, batch);
    double ns = static_cast<double>((clock.Now() - start).count()) / kN;
    std::string suffix = batch == 1 ? "" : "_batch64";
    Report("B1", "userspace_ns_per_heartbeat_1M_tracked" + suffix, ns, "ns");
    Report("B1", "userspace_accepted" + suffix,
           static_cast<double>(p.counters.entries_accepted.load() - before),
           "count");
  }
  Datagrams d = Build(clock, kN, 1, seq, 1);
  Report("B1", "datagram_bytes", static_cast<double>(d.size[0]), "B");
  double raw_rate = 0;
  {
    RawReceiver raw;
    MonoTime start = clock.Now();
    uint64_t sent = Blast(d, raw.port);
    double secs = Settle(clock, start, [&] { return raw.received.load(); });
    raw_rate = static_cast<double>(raw.received.load()) / secs;
    Report("B1", "raw_recvmmsg_datagrams_per_s", raw_rate, "1/s");
    Report("B1", "raw_drops", static_cast<double>(sent - raw.received.load()),
           "count");
  }
  {
    hb::ReceiverConfig rc;
    rc.bind_addresses = {"127.0.0.1:0"};
    hb::UdpReceiver recv(rc, clock, p.detector, p.keys,
                         std::chrono::seconds(60));
    if (!recv.Start().ok()) return;
    std::string a = recv.local_addresses()[0];
    int port = std::stoi(a.substr(a.rfind(':') + 1));
    uint64_t before = Accepted(recv);
    MonoTime start = clock.Now();
    uint64_t sent = Blast(d, port);
    double secs = Settle(clock, start, [&] { return Received(recv); });
    uint64_t accepted = Accepted(recv) - before;
    double rate = static_cast<double>(Received(recv)) / secs;
    Report("B1", "authenticated_datagrams_per_s", rate, "1/s", raw_rate);
    Report("B1", "authenticated_accepted", static_cast<double>(accepted),
           "count");
    Report("B1", "authenticated_drops",
           static_cast<double>(sent - Received(recv)), "count");
    recv.Stop();
  }
}

void B2() {
  constexpr size_t kN = 1'000'000;
  constexpr size_t kPer = 128;
  constexpr int kRounds = 4;
  RealClock clock;
  Pipeline p(clock, kN);
  Datagrams first = Build(clock, kN, kPer, 1, 1);
  for (size_t i = 0; i < first.count(); ++i) {
    p.processor.Process(first.at(i), clock.Now(), clock.WallNow());
  }
  Datagrams d = Build(clock, kN, kPer, 2, kRounds);
  Report("B2", "datagram_bytes", static_cast<double>(d.size[0]), "B");
  {
    hb::ReceiverConfig rc;
    rc.bind_addresses = {"127.0.0.1:0"};
    hb::UdpReceiver recv(rc, clock, p.detector, p.keys,
                         std::chrono::seconds(60));
    if (!recv.Start().ok()) return;
    std::string a = recv.local_addresses()[0];
    int port = std::stoi(a.substr(a.rfind(':') + 1));
    MonoTime start = clock.Now();
    uint64_t sent = Blast(d, port);
    double secs = Settle(clock, start, [&] { return Accepted(recv); });
    uint64_t accepted = Accepted(recv);
    Report("B2", "instance_heartbeats_per_s",
           static_cast<double>(accepted) / secs, "1/s");
    Report("B2", "datagram_drops", static_cast<double>(sent - Received(recv)),
           "count");
    Report("B2", "instance_heartbeats_accepted", static_cast<double>(accepted),
           "count");
    recv.Stop();
  }
  // The same datagrams through the pipeline without sockets (user space).
  {
    Datagrams again = Build(clock, kN, kPer, 100, 2);
    uint64_t before = p.counters.entries_accepted.load();
    MonoTime start = clock.Now();
    ProcessAll(clock, p, again, 1);
    double secs = ToSeconds(clock.Now() - start);
    uint64_t accepted = p.counters.entries_accepted.load() - before;
    Report("B2", "userspace_instance_heartbeats_per_s",
           static_cast<double>(accepted) / secs, "1/s");
    Report("B2", "userspace_ns_per_instance_heartbeat",
           1e9 * secs / static_cast<double>(accepted), "ns");
  }
}

}  // namespace
}  // namespace lifeline::bench

int main(int argc, char** argv) {
  auto want = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], name) == 0) return true;
    }
    return false;
  };
  std::printf("# bench_heartbeat_udp: B1 B2 (loopback)\n");
  if (want("b1")) lifeline::bench::B1();
  if (want("b2")) lifeline::bench::B2();
  return 0;
}
