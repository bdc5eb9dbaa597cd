// Named limits of the admin HTTP API (ctl/api). Everything an HTTP client can make the
// controller hold or do is bounded here; each limit says its cost and reason.
#ifndef ALMANAC_CTL_API_LIMITS_H_
#define ALMANAC_CTL_API_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace almanac::api {

// Largest request body read (set on cpp-httplib explicitly; larger gets 413). A network
// with 16384 rules of ~100 bytes is 1.6 MB: 4 MiB leaves room, and one request can never
// make the daemon hold more than this.
inline constexpr size_t kBodyBytesMax = size_t{4} << 20;

// Deepest JSON nesting accepted in a body (checked before parsing, so a hostile
// "[[[[..." never reaches a recursive walk). Capabilities > rules > rule > field is 5.
inline constexpr size_t kJsonDepthMax = 32;

// Most entries in any array field (routes, pools, rules, capabilities, tags,
// ipAssignments), as ZeroTier's controller caps them.
inline constexpr size_t kArrayEntriesMax = 16384;

// DNS as the config dictionary carries it: a 128-byte zero-padded domain and 4 servers.
inline constexpr size_t kDnsDomainBytesMax = 127;
inline constexpr size_t kDnsServersMax = 4;

// Longest free-text field (network and member names, rulesSource is separate).
inline constexpr size_t kNameBytesMax = 1024;
// rulesSource is the admin's rule-language text, kept only for UIs.
inline constexpr size_t kRulesSourceBytesMax = size_t{1} << 20;

// MTU bounds (ZeroTier clamps to these) and the multicast limit's upper clamp.
inline constexpr uint32_t kMtuMin = 1280;
inline constexpr uint32_t kMtuMax = 10000;
inline constexpr uint32_t kMulticastLimitMax = 0xffffffffu;

// Worker threads serving HTTP connections. With keep-alive a connection holds its
// thread until it goes idle for kKeepAliveTimeoutSeconds, so this is also the number of
// connections served at once; the accept loop waits (back-pressure through the kernel
// backlog) while kPendingConnectionsMax more wait for a thread.
inline constexpr size_t kWorkerThreads = 16;
inline constexpr size_t kPendingConnectionsMax = 256;

// Floods of idle and slow connections (cpp-httplib serves a connection on one worker
// thread from accept to close, so a connection that sends nothing or trickles holds one):
// - A connection that has sent nothing is not accepted for about kIdleAcceptDeferSeconds
//   (TCP_DEFER_ACCEPT): idle sockets wait in the kernel, not on a worker. Linux hands them
//   over after that anyway; each then holds a worker for at most kKeepAliveTimeoutSeconds.
// - A request body must keep up kBodyBytesPerSecondMin after a kBodyGraceSeconds start
//   (4 MiB may take 74 s): a slow-loris body, a byte now and then within the read timeout,
//   would otherwise hold a worker for days. Too slow: 408, the connection is closed, and
//   almanac_http_slow_bodies_total counts it.
// Connections accepted and times the accept loop waited for room among the
// kPendingConnectionsMax are counted (almanac_http_connections_total,
// almanac_http_connections_waited_total).
inline constexpr int kIdleAcceptDeferSeconds = 10;
// Connections the kernel holds for the accept loop, deferred idle ones included
// (cpp-httplib 0.11 listens with a backlog of 5, so a few idle sockets would keep every
// new client out). The kernel caps it at net.core.somaxconn.
inline constexpr int kListenBacklog = 4096;
inline constexpr int kBodyGraceSeconds = 10;
inline constexpr size_t kBodyBytesPerSecondMin = size_t{64} << 10;

// Requests per keep-alive connection before the server closes it (large: scripts that
// reuse one connection must not stall on a reconnect every few requests).
inline constexpr size_t kKeepAliveRequestsMax = 100000;
inline constexpr int kKeepAliveTimeoutSeconds = 5;
inline constexpr int kReadTimeoutSeconds = 10;
inline constexpr int kWriteTimeoutSeconds = 10;

// Distinct metric series a registry holds; more are folded into one overflow series.
inline constexpr size_t kMetricSeriesMax = 4096;

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_LIMITS_H_
