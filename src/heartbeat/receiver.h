// UdpReceiver: the heartbeat sockets and the threads that drain them.
//
// Each thread runs its own RealLoop (epoll) over its sockets and drains
// them with recvmmsg in batches, handing every datagram to its own
// DatagramProcessor. With reuse_port, every thread binds its own socket
// per address (SO_REUSEPORT) and the kernel spreads senders over them;
// without it there is one thread. IPv4 and IPv6 addresses may be mixed;
// an IPv6 wildcard bind is IPv6-only so "0.0.0.0:p" and "[::]:p" coexist.
//
// Each thread publishes a "drained until" time: every datagram the kernel
// had queued before it has been processed. The detector never judges
// silence past the slowest thread's mark, so a starved receiver is not
// mistaken for silent instances.
//
// Thread-safety: Start/Stop from one controlling thread; the accessors
// are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/real_loop.h"
#include "core/status.h"
#include "heartbeat/datagram_processor.h"

namespace lifeline::heartbeat {

struct ReceiverConfig {
  std::vector<std::string> bind_addresses = {"0.0.0.0:7946"};
  int threads = 1;
  bool reuse_port = false;
  int rcvbuf_bytes = 16 << 20;  // requested; the kernel may cap it
  int batch = 64;               // datagrams per recvmmsg
  Duration idle_wake = std::chrono::milliseconds(2);  // marks time when idle
};

class UdpReceiver {
 public:
  UdpReceiver(ReceiverConfig config, const Clock& clock,
              ShardedDetector& detector, const KeyStore& keys,
              Duration clock_skew);
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  // Binds every address and starts the threads. InvalidArgument for a bad
  // address or threads > 1 without reuse_port; Unavailable if a bind fails.
  Status Start();
  void Stop();

  // "127.0.0.1:40123" per bound socket of thread 0 (ports resolved).
  std::vector<std::string> local_addresses() const { return local_; }
  int effective_rcvbuf() const { return effective_rcvbuf_; }
  // The earliest "drained until" mark over all threads.
  MonoTime drained_until() const;
  const std::vector<std::unique_ptr<ReceiverCounters>>& counters() const {
    return counters_;
  }

 private:
  struct Worker;
  Status OpenSockets(Worker& w, bool first);
  void Drain(Worker& w, int fd);

  ReceiverConfig config_;
  const Clock& clock_;
  ShardedDetector& detector_;
  const KeyStore& keys_;
  Duration clock_skew_;
  std::vector<std::unique_ptr<ReceiverCounters>> counters_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::string> local_;
  int effective_rcvbuf_ = 0;
  bool started_ = false;
};

}  // namespace lifeline::heartbeat
