// The admin API's accept lobby: one thread with epoll accepts connections and holds each
// until a whole request head (request line and headers, up to "\r\n\r\n") has arrived;
// only then may a worker take it (Take). A served keep-alive connection comes back
// (Return) and waits here for its next request. So a connection that sends nothing,
// trickles its head or sits idle between requests costs a descriptor and a small entry,
// never a worker thread. Limits and their reasons: ctl/api/limits.h.
//
// The lobby reads heads with MSG_PEEK: the bytes stay in the kernel's socket buffer, the
// lobby keeps none of its own, and the worker reads the whole request from the socket.
//
// What happens to a connection in the lobby:
//   head complete                 -> ready: waits (in arrival order) for a worker
//   head_bytes_max without an end -> 431, closed       (headers_too_large)
//   head_deadline passed (new)    -> closed            (header_timeouts)
//   keep_alive_timeout passed     -> closed            (keep_alive_timeouts)
//   client closed or reset        -> closed
//   lobby full, a new one arrives -> the longest-waiting one without a head is closed
//                                    (evicted); none: the new one is closed (refused)
//
// Thread safety: Take and Return may be called from any thread (the workers); Start and
// Stop from the owner. Counters are updated from the lobby thread.
#ifndef ALMANAC_CTL_API_HTTP_LOBBY_H_
#define ALMANAC_CTL_API_HTTP_LOBBY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/api/metrics.h"

namespace almanac::api {

// A connection whose whole request head is in its socket buffer.
struct LobbyConnection {
  int fd = -1;
  size_t head_bytes = 0;       // the head's length, "\r\n\r\n" included
  size_t requests_served = 0;  // on this connection before (keep-alive)
};

struct LobbyOptions {
  size_t connections_max = 0;    // already capped by the descriptor share (limits.h)
  size_t head_bytes_max = 0;
  absl::Duration head_deadline;
  absl::Duration keep_alive_timeout;
  size_t accepts_per_wake_max = 0;
};

struct LobbyCounters {
  Counter* accepted = nullptr;
  Counter* header_timeouts = nullptr;
  Counter* keep_alive_timeouts = nullptr;
  Counter* headers_too_large = nullptr;
  Counter* evicted = nullptr;
  Counter* refused = nullptr;
  Counter* waited = nullptr;  // heads that found every worker busy
};

// Where the request head on `fd` ends: its length with "\r\n\r\n", or 0 while it has not
// all arrived. Looks at the first `head_bytes_max` bytes without consuming them and never
// blocks. Errors: ResourceExhausted when that many bytes hold no end; Unavailable when
// the client closed (nothing left to read) or the connection failed.
absl::StatusOr<size_t> PeekHeadEnd(int fd, size_t head_bytes_max);

class HttpLobby {
 public:
  // Takes `listen_fd` (listening, non-blocking) and starts the lobby thread. Errors:
  // Internal when epoll or eventfd cannot be created (listen_fd is then closed).
  // REQUIRES: every option and counter set.
  static absl::StatusOr<std::unique_ptr<HttpLobby>> Start(int listen_fd,
                                                          const LobbyOptions& options,
                                                          const LobbyCounters& counters);
  ~HttpLobby();  // Stop()
  HttpLobby(const HttpLobby&) = delete;
  HttpLobby& operator=(const HttpLobby&) = delete;

  // Blocks until a connection with a whole head is ready (the caller then owns its fd)
  // or the lobby stopped (nullopt).
  std::optional<LobbyConnection> Take();

  // Gives a served connection back to wait for its next request (keep-alive) with
  // head_bytes 0. After Stop, or when the lobby is full of ready connections, it is
  // closed instead.
  void Return(LobbyConnection connection);

  // Connections held now (waiting for a head or for a worker).
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }
  // Connections with a whole head waiting for a worker now.
  size_t ready() const { return ready_count_.load(std::memory_order_relaxed); }
  size_t connections_max() const { return options_.connections_max; }

  // Closes the listening socket and every connection held, wakes every Take (nullopt) and
  // joins the lobby thread. Idempotent.
  void Stop();

 private:
  enum class Wait { kHead, kNextRequest };  // a new connection / kept alive
  struct Entry {
    int fd = -1;
    size_t requests_served = 0;
    std::chrono::steady_clock::time_point entered;  // into the lobby, this time
    std::chrono::steady_clock::time_point deadline;
    Wait wait = Wait::kHead;
    uint32_t generation = 0;  // tells a stale epoll event from one for a reused fd
    std::list<Entry>::iterator self;
  };

  HttpLobby(int listen_fd, const LobbyOptions& options, const LobbyCounters& counters);
  void Run();
  void Accept();
  // Adds a connection that waits for a head; may evict the longest-waiting one first.
  void Admit(int fd, Wait wait, size_t requests_served);
  void OnReadable(Entry* entry, uint32_t events);
  void ExpireDue(std::chrono::steady_clock::time_point now);
  int WaitTimeoutMs(std::chrono::steady_clock::time_point now) const;
  void Remove(Entry* entry);  // unwatches and forgets it, does not close
  void Close(Entry* entry);
  void RefuseOne();  // accept failed for want of a descriptor
  void TakeReturned();
  bool EvictOldest();
  std::list<Entry>& ListFor(Wait wait) { return wait == Wait::kHead ? heads_ : kept_; }

  const LobbyOptions options_;
  const LobbyCounters counters_;
  const int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Return and Stop wake the lobby thread
  std::thread thread_;
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> ready_count_{0};  // ready_.size(), readable without the lock

  // Lobby thread only. Each list is in deadline order (one timeout per list).
  std::list<Entry> heads_;
  std::list<Entry> kept_;
  std::vector<Entry*> by_fd_;  // entries waiting in epoll, by descriptor
  uint32_t generation_ = 0;
  int spare_fd_ = -1;  // closed to accept-and-close one connection when none is left

  std::mutex mu_;
  std::condition_variable ready_cv_;
  std::deque<LobbyConnection> ready_;      // guarded by mu_
  std::vector<LobbyConnection> returned_;  // guarded by mu_
  size_t takers_waiting_ = 0;              // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  bool stopped_ = false;                   // owner only
};

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_HTTP_LOBBY_H_
