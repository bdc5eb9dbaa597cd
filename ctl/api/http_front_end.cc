#include "ctl/api/http_front_end.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/thread_name.h"
#include "httplib.h"

namespace almanac::api {

using Clock = std::chrono::steady_clock;

// cpp-httplib parses, routes and answers one request from a Stream here. It never
// listens: svr_sock_ is set to the front end's listening socket only so that its content
// providers (chunked streams) know the server runs, and cleared to stop them, as its own
// stop() does.
class RequestServer : public httplib::Server {
 public:
  // Reads one request from `stream` and answers it; false when the connection failed or
  // the request could not be read. `closed`: the client asked to close after it.
  bool ServeOne(httplib::Stream& stream, bool last, bool* closed) {
    bool connection_closed = false;
    const bool ok = process_request(stream, last, connection_closed, nullptr);
    *closed = connection_closed;
    return ok;
  }
  void SetRunning(int listen_fd) { svr_sock_ = listen_fd; }
  void SetStopping() { svr_sock_ = INVALID_SOCKET; }
};

namespace {

class ConnectionStream;

// Set by CloseAfterAnswer while a worker serves a request.
thread_local bool serving_request = false;
thread_local bool close_after_answer = false;
thread_local ConnectionStream* serving_stream = nullptr;

// True when `fd` is ready for `events`, or failed (the next call reports how), by
// `deadline`.
bool WaitReady(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const int64_t left_ns = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()).count());
    const timespec left{static_cast<time_t>(left_ns / 1000000000),
                        static_cast<long>(left_ns % 1000000000)};
    pollfd p{fd, events, 0};
    const int n = ppoll(&p, 1, &left, nullptr);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

void IpAndPort(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof(host),
                  nullptr, 0, NI_NUMERICHOST) == 0) {
    ip = host;
  }
  if (address.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  } else if (address.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
}

// One request on a connection whose whole head (head_bytes, known from the lobby) is in
// the socket buffer. The head is read at once; after it, reads go straight to the socket
// for exactly what cpp-httplib asks (a body's length, a chunk line byte by byte), so
// nothing past this request is consumed and the next one stays in the kernel for the
// lobby to see. Every wait is bounded by the read or write timeout.
//
// System calls are the cost that matters here (several microseconds each on the kind of
// virtual machine this runs on): reads and writes try the socket first and wait only
// when it would block, and the response head cpp-httplib writes on its own is held and
// sent together with the first body write (one send, one segment, one wake-up of the
// client instead of two). What is held goes out at the latest before the next read from
// the socket, before each piece of a streamed body, and at the end of the request
// (Flush).
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int fd, PeerAddress* peer, absl::Duration read_timeout,
                   absl::Duration write_timeout)
      : fd_(fd),
        peer_(peer),
        read_timeout_(absl::ToChronoMilliseconds(read_timeout)),
        write_timeout_(absl::ToChronoMilliseconds(write_timeout)) {}

  // False when the head could not be read within the read timeout (the client reset).
  bool ReadHead(size_t head_bytes) {
    head_.resize(head_bytes);
    size_t got = 0;
    const Clock::time_point deadline = Clock::now() + read_timeout_;
    while (got < head_bytes) {
      const ssize_t n = ReadBy(head_.data() + got, head_bytes - got, deadline);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }
  // True when cpp-httplib read exactly the head the lobby found (a malformed head may end
  // elsewhere: then the connection is not reused).
  bool head_consumed() const { return head_read_ == head_.size(); }

  bool is_readable() const override {
    return head_read_ < head_.size() || WaitReady(fd_, POLLIN, Clock::now() + read_timeout_);
  }
  // Also false once the client has closed its side (as in cpp-httplib's own socket
  // stream): a follow stream's next write then fails instead of going to a dead peer.
  // Called by cpp-httplib before each piece of a streamed body, which may then wait for
  // data: the held head goes out first.
  bool is_writable() const override {
    return Flush() && WaitReady(fd_, POLLOUT, Clock::now() + write_timeout_) && PeerStillThere();
  }

  ssize_t read(char* ptr, size_t size) override {
    if (head_read_ < head_.size()) {
      const size_t n = std::min(size, head_.size() - head_read_);
      std::copy_n(head_.data() + head_read_, n, ptr);
      head_read_ += n;
      return static_cast<ssize_t>(n);
    }
    return ReadBy(ptr, size, Clock::now() + read_timeout_);
  }

  // Reads up to `size` bytes past the head straight from the socket, waiting until
  // `deadline` at most; 0 when the client closed, -1 on failure or at the deadline.
  ssize_t ReadBy(char* ptr, size_t size, Clock::time_point deadline) {
    // Whatever write() held goes out before waiting for the client, which may be waiting
    // for it: "HTTP/1.1 100 Continue" before an Expect: 100-continue body.
    if (!Flush()) return -1;
    while (true) {
      const ssize_t n = recv(fd_, ptr, size, MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitReady(fd_, POLLIN, deadline)) return -1;
      } else if (errno != EINTR) {
        return -1;
      }
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!head_written_) {
      // cpp-httplib writes the status line and headers in one call before the body.
      head_written_ = true;
      if (size <= kHeldHeadBytesMax) {
        held_.assign(ptr, size);
        return static_cast<ssize_t>(size);
      }
    }
    if (!held_.empty() && size <= kHeldHeadBytesMax) {
      held_.append(ptr, size);
      const bool sent = SendAll(held_.data(), held_.size());
      held_.clear();
      return sent ? static_cast<ssize_t>(size) : -1;
    }
    // A streamed body (follow): a consumer that left must make this write fail, not
    // the one after it (a send to a closed peer still succeeds once).
    if (!Flush() || !PeerStillThere()) return -1;
    return SendAll(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }

  // Sends what write() held back. False when the connection failed. Const because
  // is_writable is (held_ is mutable).
  bool Flush() const {
    if (held_.empty()) return true;
    const bool sent = SendAll(held_.data(), held_.size());
    held_.clear();
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (!peer_->known) {
      sockaddr_storage address{};
      socklen_t length = sizeof(address);
      if (getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        IpAndPort(address, length, peer_->ip, peer_->port);
        peer_->known = true;
      }
    }
    ip = peer_->ip;
    port = peer_->port;
  }
  // Nothing in Almanac reads a request's local address, and cpp-httplib asks for it on
  // every request: not worth a system call each time.
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  socket_t socket() const override { return fd_; }

 private:
  // Most bytes write() holds back: a response head (cpp-httplib's status line and
  // headers) and, appended to it, a first body write of at most the same size.
  static constexpr size_t kHeldHeadBytesMax = 16 * 1024;

  // Sends all `size` bytes, waiting (bounded by the write timeout) when the socket buffer
  // is full. False when the connection failed or the timeout passed.
  bool SendAll(const char* ptr, size_t size) const {
    const Clock::time_point deadline = Clock::now() + write_timeout_;
    while (size > 0) {
      const ssize_t n = send(fd_, ptr, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        ptr += n;
        size -= static_cast<size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitReady(fd_, POLLOUT, deadline)) return false;
      } else if (errno != EINTR) {
        return false;
      }
    }
    return true;
  }

  // False when reading would report the end of the stream or an error; bytes waiting to
  // be read mean the client is there.
  bool PeerStillThere() const {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return true;
    char byte;
    return recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  const int fd_;
  PeerAddress* const peer_;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  std::string head_;
  size_t head_read_ = 0;
  bool head_written_ = false;  // the response head went through write()
  mutable std::string held_;   // written but not sent yet (see write)
};

// A non-blocking listening socket on the first address of host that binds; its port.
absl::StatusOr<std::pair<int, int>> Listen(const HttpFrontEndOptions& options) {
  const std::string where = absl::StrCat(options.host, ":", options.port);
  if (options.port < 0 || options.port > 65535) {
    return absl::UnavailableError("cannot listen on " + where);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(options.port);
  if (const int error = getaddrinfo(options.host.c_str(), service.c_str(), &hints, &found);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", where, ": ", gai_strerror(error)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1, no = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (a->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
    if (options.idle_accept_defer_seconds > 0) {
      const int defer = options.idle_accept_defer_seconds;
      setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
    }
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, kListenBacklog) != 0) {
      error = strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", where, ": ", error));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  std::string ip;
  int port = 0;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
    IpAndPort(bound, length, ip, port);
  }
  if (port <= 0) {
    close(fd);
    return absl::UnavailableError("cannot listen on " + where + ": no port");
  }
  return std::make_pair(fd, port);
}

// The lobby's cap: the configured one, but at most its share of the descriptor limit.
size_t LobbyConnectionsMax(size_t configured) {
  rlimit limit{};
  size_t cap = configured;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    cap = std::min<size_t>(cap, limit.rlim_cur * kLobbyDescriptorsPercentMax / 100);
  }
  return std::max<size_t>(cap, 1);
}

}  // namespace

HttpFrontEnd::HttpFrontEnd(const HttpFrontEndOptions& options, MetricsRegistry* metrics)
    : options_(options), metrics_(metrics), server_(std::make_unique<RequestServer>()) {}

absl::StatusOr<std::unique_ptr<HttpFrontEnd>> HttpFrontEnd::Bind(
    const HttpFrontEndOptions& options, MetricsRegistry* metrics) {
  ALMANAC_CHECK(metrics != nullptr);
  ALMANAC_CHECK(options.worker_threads > 0 && options.keep_alive_requests_max > 0);
  absl::StatusOr<std::pair<int, int>> listening = Listen(options);
  if (!listening.ok()) return listening.status();
  std::unique_ptr<HttpFrontEnd> front(new HttpFrontEnd(options, metrics));
  front->listen_fd_ = listening->first;
  front->port_ = listening->second;
  front->lobby_options_.connections_max = LobbyConnectionsMax(options.lobby_connections_max);
  front->lobby_options_.head_bytes_max = options.head_bytes_max;
  front->lobby_options_.head_deadline = options.head_deadline;
  front->lobby_options_.keep_alive_timeout = options.keep_alive_timeout;
  front->lobby_options_.accepts_per_wake_max = kLobbyAcceptsPerWakeMax;
  return front;
}

httplib::Server& HttpFrontEnd::server() { return *server_; }

absl::Status HttpFrontEnd::Serve() {
  ALMANAC_CHECK(listen_fd_ >= 0 && lobby_ == nullptr);
  MetricsRegistry* m = metrics_;
  LobbyCounters counters;
  counters.accepted = m->GetCounter("almanac_http_connections_total",
                                    "Admin API connections accepted.");
  counters.waited = m->GetCounter(
      "almanac_http_connections_waited_total",
      "Admin API request heads that arrived while every worker was busy and waited for one.");
  counters.header_timeouts = m->GetCounter(
      "almanac_http_header_timeouts_total",
      "Admin API connections closed for not sending a whole request head within "
      "kHeadDeadlineSeconds.");
  counters.keep_alive_timeouts = m->GetCounter(
      "almanac_http_keep_alive_timeouts_total",
      "Kept-alive admin API connections closed after kKeepAliveTimeoutSeconds without a "
      "next request.");
  counters.headers_too_large = m->GetCounter(
      "almanac_http_headers_too_large_total",
      "Admin API request heads refused (431) for passing kHeadBytesMax without an end.");
  counters.evicted = m->GetCounter(
      "almanac_http_lobby_evicted_total",
      "Admin API connections without a whole request head closed to make room in a full "
      "lobby (the longest-waiting first).");
  counters.refused = m->GetCounter(
      "almanac_http_lobby_refused_total",
      "Admin API connections closed as soon as accepted: the lobby was full of whole "
      "requests waiting for a worker, or no descriptor was left.");
  const int listen_fd = listen_fd_;
  listen_fd_ = -1;  // the lobby owns it from here, even when it fails to start
  absl::StatusOr<std::unique_ptr<HttpLobby>> lobby =
      HttpLobby::Start(listen_fd, lobby_options_, counters);
  if (!lobby.ok()) return lobby.status();
  lobby_ = std::move(*lobby);
  HttpLobby* held = lobby_.get();
  m->SetGauge("almanac_http_lobby_connections",
              "Admin API connections in the lobby, waiting for a whole request head or for a "
              "worker.",
              [held] { return static_cast<double>(held->connections()); });
  m->SetGauge("almanac_http_lobby_connections_max",
              "Most connections the lobby holds (kLobbyConnectionsMax, or its share of "
              "RLIMIT_NOFILE).",
              [held] { return static_cast<double>(held->connections_max()); });
  server_->SetRunning(listen_fd);
  for (size_t i = 0; i < options_.worker_threads; ++i) {
    workers_.emplace_back([this] {
      NameThisThread("api-worker");
      Work();
    });
  }
  return absl::OkStatus();
}

void HttpFrontEnd::Stop() {
  if (lobby_ == nullptr) {
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  stopping_.store(true);
  server_->SetStopping();
  lobby_->Stop();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

HttpFrontEnd::~HttpFrontEnd() { Stop(); }

void HttpFrontEnd::CloseAfterAnswer() {
  if (serving_request) close_after_answer = true;
}

bool HttpFrontEnd::DiscardRequestBody(size_t bytes, absl::Duration grace,
                                      size_t bytes_per_second_min) {
  ALMANAC_CHECK(bytes_per_second_min > 0);
  if (serving_stream == nullptr || !serving_stream->head_consumed()) return false;
  const Clock::time_point start = Clock::now();
  const auto allowed = [&](size_t dropped) {
    return start + absl::ToChronoNanoseconds(grace) +
           std::chrono::nanoseconds(static_cast<int64_t>(
               1e9 * static_cast<double>(dropped) / static_cast<double>(bytes_per_second_min)));
  };
  char scratch[16384];
  size_t dropped = 0;
  while (dropped < bytes) {
    const size_t want = std::min(sizeof(scratch), bytes - dropped);
    // By when `want` more bytes are due; a slower client fails the read.
    const ssize_t n = serving_stream->ReadBy(scratch, want, allowed(dropped + want));
    if (n <= 0) return false;
    dropped += static_cast<size_t>(n);
  }
  return true;
}

void HttpFrontEnd::Work() {
  while (std::optional<LobbyConnection> c = lobby_->Take()) {
    if (ServeConnection(&*c)) lobby_->Return(*c);
  }
}

bool HttpFrontEnd::ServeConnection(LobbyConnection* c) {
  PeerAddress peer;
  while (ServeRequest(c, &peer)) {
    // The lobby costs two thread hand-offs per request; a client that sends its next
    // request at once (a script on this host) is served here instead, as long as no
    // other connection's request waits for a worker.
    if (lobby_->ready() > 0 ||
        !WaitReady(c->fd, POLLIN, Clock::now() + absl::ToChronoNanoseconds(options_.linger))) {
      return true;
    }
    const absl::StatusOr<size_t> next = PeekHeadEnd(c->fd, options_.head_bytes_max);
    if (!next.ok() && absl::IsUnavailable(next.status())) break;  // the client left
    // A partial head, or one too large (answered 431 there), goes to the lobby.
    if (!next.ok() || *next == 0) return true;
    c->head_bytes = *next;
  }
  close(c->fd);
  return false;
}

bool HttpFrontEnd::ServeRequest(LobbyConnection* c, PeerAddress* peer) {
  ConnectionStream stream(c->fd, peer, options_.read_timeout, options_.write_timeout);
  if (!stream.ReadHead(c->head_bytes)) return false;
  // The last request a connection may make, or the server is stopping: cpp-httplib then
  // answers with "Connection: close".
  const bool last =
      c->requests_served + 1 >= options_.keep_alive_requests_max || stopping_.load();
  bool closed = false;
  serving_request = true;
  serving_stream = &stream;
  close_after_answer = false;
  bool served = server_->ServeOne(stream, last, &closed);
  served = stream.Flush() && served;
  serving_request = false;
  serving_stream = nullptr;
  ++c->requests_served;
  return served && !closed && !last && !close_after_answer && stream.head_consumed();
}

}  // namespace almanac::api
