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

// GET /events (ctl/api/event_stream.h). Every /events request holds a worker thread while
// it runs (a follow stream for as long as the consumer stays), so at most kEventStreamsMax
// run at once and the rest of the admin API keeps at least half the workers; one more
// gets 429 at once (almanac_event_streams_refused_total).
inline constexpr size_t kEventStreamsMax = 8;
static_assert(kEventStreamsMax * 2 <= kWorkerThreads,
              "event streams leave half the workers to the rest of the admin API");
// Records in one non-follow answer (limit= may ask for fewer). The consumer asks again
// from where the answer stopped; 1000 JSON events are a few hundred KB.
inline constexpr size_t kEventResponseRecordsMax = 1000;
// Bytes of events rendered before an answer (or one chunk of a follow stream) is sent:
// bounds what one consumer makes the daemon hold. Always at least one record, and a
// record is at most 1 MiB (journal kRecordBytesMax), rendered a few times that.
inline constexpr size_t kEventChunkBytesMax = size_t{1} << 20;
// Records examined per answer or chunk when filters skip them: a filter that matches
// nothing in a long journal must not hold a thread for a whole scan. The answer ends with
// a heartbeat naming how far it got, so the consumer goes on from there.
inline constexpr size_t kEventScanRecordsMax = 100000;
// Longest long poll (wait=): below common proxy idle timeouts (60 s).
inline constexpr int kEventWaitSecondsMax = 50;
// Heartbeats of a follow stream (heartbeat= may choose 1..kEventHeartbeatSecondsMax):
// they carry the scanned position and let both ends see a dead connection.
inline constexpr int kEventHeartbeatSecondsDefault = 5;
inline constexpr int kEventHeartbeatSecondsMax = 60;
// How often a waiting stream or long poll looks up from the journal's wait to see
// whether the server is stopping: bounds how long Stop waits for streams.
inline constexpr int kEventWaitSliceMs = 100;
// A consumer that stops reading is disconnected when the kernel's socket buffers are full
// and one write has waited kWriteTimeoutSeconds (the server's write timeout): the daemon
// then holds at most one chunk (kEventChunkBytesMax) for it, for that long
// (almanac_event_stream_disconnects_total{reason="write"}).

// Distinct metric series a registry holds; more are folded into one overflow series.
inline constexpr size_t kMetricSeriesMax = 4096;

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_LIMITS_H_
