// Kernel UDP receive-buffer drops: datagrams the kernel discarded because a
// socket's receive buffer was full, before any receiver saw them.
//
// Reads RcvbufErrors from the "Udp:" rows of /proc/net/snmp and
// Udp6RcvbufErrors from /proc/net/snmp6. The counters cover every UDP
// socket in the network namespace, not only ours: a rise while our
// receivers are busy is the signal to raise SO_RCVBUF or add threads.
// HeartbeatService reports the rise since Start as
// HeartbeatStats::kernel_rcvbuf_errors (lifeline_heartbeat_dropped_total
// {reason="kernel"} in /metrics).
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lifeline::heartbeat {

// Sum of the IPv4 and IPv6 counters. A file that is missing (snmp6 on a
// kernel without IPv6) or lacks its counter counts as zero; NotFound if
// neither file has its counter; InvalidArgument naming the file if one is
// malformed.
Result<uint64_t> ReadUdpRcvbufErrors(const std::string& proc_net = "/proc/net");

// The parsers, over the files' texts (`where` names the source in errors).
//
// /proc/net/snmp: the first "Udp:" row names the columns, the second holds
// the values ("UdpLite:" rows are another protocol). NotFound without a
// "Udp:" section or a RcvbufErrors column; InvalidArgument if the values
// row is missing, has another number of fields, or the value is not a
// decimal number.
Result<uint64_t> ParseSnmpUdpRcvbufErrors(std::string_view snmp,
                                          std::string_view where = "snmp");
// /proc/net/snmp6: "name value" lines. NotFound without a Udp6RcvbufErrors
// line; InvalidArgument if its value is not a decimal number.
Result<uint64_t> ParseSnmp6UdpRcvbufErrors(std::string_view snmp6,
                                           std::string_view where = "snmp6");

}  // namespace lifeline::heartbeat
