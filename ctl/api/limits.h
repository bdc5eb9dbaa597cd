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

// Members rendered per hold of the state's reader lock when listing a network's members
// (member_text.h RenderMemberList). The sequencer waits for the lock to apply each batch,
// so this bounds how long a list delays every write: ~1,000 full members take a few
// milliseconds, where the whole list of 100,000 held it for hundreds.
inline constexpr size_t kListChunkMembers = 1000;

// Worker threads serving HTTP requests. A connection takes a worker only once a whole
// request head has arrived (the lobby below) and gives it back after the answer, so this
// is the number of requests served at once, not of connections open.
inline constexpr size_t kWorkerThreads = 16;

// The lobby (ctl/api/http_lobby.h): one thread with epoll accepts every connection and
// holds it, at the cost of a descriptor and about a hundred bytes (the kernel's socket
// buffers aside), until a whole request head ("\r\n\r\n") has arrived; only then does a
// worker read it. Kept-alive connections come back between requests. So idle, half-sent
// and kept-alive connections never hold a worker, and 10,000 of them cost descriptors,
// not threads.
// - Connections held at once, waiting for a head or for a worker. Past it the one that
//   entered the lobby longest ago and is still waiting for its head is closed
//   (almanac_http_lobby_evicted_total): a real client sends its head right after
//   connecting (with TCP_DEFER_ACCEPT it is already there when accepted), so under a
//   flood the idle sockets are the oldest. With none to evict (every one has a whole
//   head and waits for a worker) the new one is closed at once
//   (almanac_http_lobby_refused_total), as it is when the process has no descriptor left.
inline constexpr size_t kLobbyConnectionsMax = 4096;
// ...but never more than this share of RLIMIT_NOFILE (read at start): the journal's
// RocksDB files, the UDP socket and the workers' connections need the rest.
inline constexpr size_t kLobbyDescriptorsPercentMax = 50;
// Bytes of a request head (request line and headers, up to the blank line). A head
// this long without its end gets 431 and the connection is closed
// (almanac_http_headers_too_large_total). The lobby looks at it with MSG_PEEK, so it
// stays in the kernel's socket buffer: the lobby holds no bytes of its own per connection,
// whatever clients send. cpp-httplib separately refuses a header line over 8 KiB (400).
inline constexpr size_t kHeadBytesMax = size_t{16} << 10;
// A new connection must deliver its whole head within this; otherwise it is closed without
// an answer (almanac_http_header_timeouts_total). Bounds slow-loris heads (a byte now and
// then) as well as sockets that send nothing. A head is one or two TCP segments, so 10 s
// is generous even over a bad link.
inline constexpr int kHeadDeadlineSeconds = 10;
// A connection that sends nothing is not accepted for about kIdleAcceptDeferSeconds
// (TCP_DEFER_ACCEPT): idle sockets wait in the kernel and never reach the lobby; Linux
// hands them over after that anyway, and the lobby's deadline then applies.
inline constexpr int kIdleAcceptDeferSeconds = 10;
// Connections the kernel holds for the lobby, deferred idle ones included (cpp-httplib's
// default backlog is 5). The kernel caps it at net.core.somaxconn.
inline constexpr int kListenBacklog = 4096;
// After an answer, a worker waits this long for the next request on the same connection
// before giving it back to the lobby, unless another request head already waits for a
// worker. Going through the lobby costs two thread hand-offs: on a loaded 2-core machine
// a small keep-alive GET took 160 us that way against 50 us in cpp-httplib's own loop,
// and 70 us with this linger. A client that sends back to back on this host answers well
// within it; one across a network, for which the hand-offs are small beside the round
// trip, mostly misses it. A worker is held for at most this long per request answered.
inline constexpr int kWorkerLingerMicros = 500;
// Accepts per lobby wake-up before it looks at the connections it holds again, so an
// accept flood cannot keep it from handing heads to the workers.
inline constexpr size_t kLobbyAcceptsPerWakeMax = 256;
// A request body must keep up kBodyBytesPerSecondMin after a kBodyGraceSeconds start
// (4 MiB may take 74 s): a slow-loris body, a byte now and then within the read timeout,
// would otherwise hold a worker for days. Too slow: 408, the connection is closed, and
// almanac_http_slow_bodies_total counts it.
inline constexpr int kBodyGraceSeconds = 10;
inline constexpr size_t kBodyBytesPerSecondMin = size_t{64} << 10;
// A body declared larger than kBodyBytesMax gets 413 before any of it is parsed. Up to
// this size it is read and dropped at the same pace (a client that sends its whole body
// before reading the answer would otherwise never see the 413); larger, it is not read
// at all and the connection is closed after the answer. (cpp-httplib's own 413 path
// reads the whole declared body at whatever pace the client sends.) At the minimum pace
// a worker is held a second per 64 KiB the client sends, as for any body, so this bounds
// one connection's hold (266 s), not what a flood costs.
inline constexpr size_t kBodyDiscardBytesMax = size_t{16} << 20;
static_assert(kBodyDiscardBytesMax >= kBodyBytesMax, "an oversized body may be dropped");
static_assert(kHeadBytesMax <= (size_t{64} << 10),
              "a head fits a default socket receive buffer, so MSG_PEEK can see all of it");

// Requests per keep-alive connection before the server closes it (large: scripts that
// reuse one connection must not stall on a reconnect every few requests).
inline constexpr size_t kKeepAliveRequestsMax = 100000;
// How long a kept-alive connection may wait in the lobby for its next request before it
// is closed (almanac_http_keep_alive_timeouts_total). It holds no worker meanwhile, only
// a descriptor and a lobby slot.
inline constexpr int kKeepAliveTimeoutSeconds = 5;
// Longest wait for each read of a request body and each write of an answer on a worker
// (a body's overall pace is bounded by kBodyBytesPerSecondMin above).
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
