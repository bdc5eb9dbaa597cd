// Small UDP helpers shared by the simulator and the netconf benchmark: a non-blocking
// IPv4 socket on an ephemeral port, and sending to a zt::InetAddress.
// Thread safety: plain functions over file descriptors; a socket is used by one thread.
#ifndef ALMANAC_TOOLS_BENCH_NODE_UDP_H_
#define ALMANAC_TOOLS_BENCH_NODE_UDP_H_

#include <netinet/in.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ctl/zt/inet_address.h"

namespace almanac::bench {

// A non-blocking UDP socket bound to 0.0.0.0:0 with large buffers (a burst of replies
// must not overflow it). Unavailable when the socket cannot be made. The caller closes it.
absl::StatusOr<int> OpenUdpSocket();

// InvalidArgument unless `address` is IPv4.
absl::StatusOr<sockaddr_in> ToSockaddr(const zt::InetAddress& address);

// Parses "a.b.c.d:port" (or "localhost:port"). InvalidArgument otherwise.
absl::StatusOr<zt::InetAddress> ParseHostPort(std::string_view text);

// Sends one datagram; false when the kernel refused it (a full buffer: the caller's
// retry logic covers it).
bool SendDatagram(int fd, const sockaddr_in& to, std::string_view bytes);

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_UDP_H_
