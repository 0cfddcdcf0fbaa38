// Kernel UDP receive-buffer drops: datagrams the kernel discarded because a
// socket's receive buffer was full, before any receiver saw them.
//
// Reads RcvbufErrors from the "Udp:" rows of /proc/net/snmp and
// Udp6RcvbufErrors from /proc/net/snmp6. The counters cover every UDP
// socket in the network namespace, not only ours: a rise while our
// receivers are busy is the signal to raise SO_RCVBUF or add threads.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace lifeline::heartbeat {

// Sum of the IPv4 and IPv6 counters. NotFound if neither file is readable.
Result<uint64_t> ReadUdpRcvbufErrors(const std::string& proc_net = "/proc/net");

// Parsers, exposed for tests: the file texts.
bool ParseSnmpUdpRcvbufErrors(const std::string& snmp, uint64_t* out);
bool ParseSnmp6UdpRcvbufErrors(const std::string& snmp6, uint64_t* out);

}  // namespace lifeline::heartbeat
