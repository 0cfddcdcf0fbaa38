// HeartbeatSender: the sending side of the heartbeat protocol, used by
// lifeline-agent, the SDK (include/lifeline/heartbeat.h) and benchmarks.
//
// Each Send() is one "round": every entry in it gets the same fresh
// sequence number (so each instance sees consecutive numbers), the current
// wall-clock time and the configured interval, packed into as few
// authenticated datagrams as the size limits allow. Sequence numbers start
// at the wall clock in microseconds, so a restarted sender continues above
// its previous numbers.
//
// Thread-safety: none; one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "heartbeat/mac.h"
#include "heartbeat/wire.h"

namespace lifeline::heartbeat {

struct SenderOptions {
  std::string address;  // "host:port", "[::1]:port"
  uint32_t key_id = 0;
  std::string secret;                                  // raw key bytes
  Duration interval = std::chrono::milliseconds(100);  // advertised
  size_t max_datagram_bytes = 1400;  // stay under a typical path MTU
};

// "host:port" / "[v6]:port" into host and port. InvalidArgument otherwise.
Status SplitHostPort(const std::string& address, std::string* host,
                     std::string* port);

class HeartbeatSender {
 public:
  static Result<std::unique_ptr<HeartbeatSender>> Create(
      const SenderOptions& options, const Clock& clock);
  ~HeartbeatSender();
  HeartbeatSender(const HeartbeatSender&) = delete;
  HeartbeatSender& operator=(const HeartbeatSender&) = delete;

  // One round for these entries (their seq / sent_at / interval are
  // filled in here). Unavailable if the kernel refused a datagram (e.g. no
  // receiver on loopback); the round still counts.
  Status Send(std::span<HeartbeatEntry> entries);

  // Builds the datagrams of one round without sending (benchmarks).
  Status BuildRound(std::span<HeartbeatEntry> entries,
                    std::vector<std::vector<uint8_t>>* datagrams);

  uint64_t next_seq() const { return next_seq_; }
  uint64_t datagrams_sent() const { return datagrams_sent_; }
  int fd() const { return fd_; }

 private:
  HeartbeatSender(const SenderOptions& o, const Clock& c)
      : options_(o), clock_(c) {}

  SenderOptions options_;
  const Clock& clock_;
  int fd_ = -1;
  std::unique_ptr<HmacSha256> mac_;
  uint64_t next_seq_ = 0;
  uint64_t datagrams_sent_ = 0;
  std::vector<std::vector<uint8_t>> scratch_;
};

}  // namespace lifeline::heartbeat
