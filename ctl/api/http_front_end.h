// How the admin API meets TCP: its own listening socket, the accept lobby
// (ctl/api/http_lobby.h) and a fixed pool of workers that run cpp-httplib's request
// parsing, routing and answers for one request head at a time.
//
// cpp-httplib 0.11 serves a connection on one thread from accept to close (its accept
// loop hands each socket to the task queue, and the worker stays in its keep-alive loop),
// and none of its hooks can return a socket to a poller: a custom TaskQueue only sees an
// opaque closure, and process_and_close_socket keeps the connection until it closes. What
// it does offer is Server::process_request (protected): parse one request from a Stream,
// route it and write the answer. So the front end is a Server subclass that never
// listens; the lobby accepts, and a worker calls process_request once per request head
// the lobby found, on a Stream over the socket, then gives the socket back to the lobby
// until its next request (after a short linger for clients that send back to back,
// kWorkerLingerMicros). cpp-httplib's own timeouts, keep-alive loop and accept loop are
// not used; everything else (handlers, body limits, error handler, chunked streams) is
// unchanged. The Stream reads the head the lobby measured and then only what cpp-httplib
// asks for, so a pipelined next request stays in the kernel for the lobby.
//
// Thread safety: Bind, Serve and Stop from the owner; handlers run on the workers.
#ifndef ALMANAC_CTL_API_HTTP_FRONT_END_H_
#define ALMANAC_CTL_API_HTTP_FRONT_END_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/api/http_lobby.h"
#include "ctl/api/limits.h"
#include "ctl/api/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace almanac::api {

class RequestServer;  // http_front_end.cc: the httplib::Server subclass

struct HttpFrontEndOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  size_t worker_threads = kWorkerThreads;
  // Held at once; further capped to kLobbyDescriptorsPercentMax of RLIMIT_NOFILE.
  size_t lobby_connections_max = kLobbyConnectionsMax;
  size_t head_bytes_max = kHeadBytesMax;
  absl::Duration head_deadline = absl::Seconds(kHeadDeadlineSeconds);
  absl::Duration keep_alive_timeout = absl::Seconds(kKeepAliveTimeoutSeconds);
  size_t keep_alive_requests_max = kKeepAliveRequestsMax;
  // How long a worker waits for the next request on a connection it just answered.
  absl::Duration linger = absl::Microseconds(kWorkerLingerMicros);
  // TCP_DEFER_ACCEPT on the listening socket; 0: off.
  int idle_accept_defer_seconds = kIdleAcceptDeferSeconds;
  // Each read of a request body and each write of an answer waits at most this long.
  absl::Duration read_timeout = absl::Seconds(kReadTimeoutSeconds);
  absl::Duration write_timeout = absl::Seconds(kWriteTimeoutSeconds);
};

// The client's address as cpp-httplib reports it to handlers (remote_addr, remote_port),
// looked up when a worker takes a connection rather than for every request: a system call
// costs microseconds on the virtual machines this runs on, and the peer does not change.
struct PeerAddress {
  bool known = false;
  std::string ip;
  int port = 0;
};

class HttpFrontEnd {
 public:
  // Binds and listens (nothing is accepted before Serve). Registers the lobby's series
  // on `metrics`, which must outlive the front end. Errors: Unavailable "cannot listen on
  // host:port" when no address of host can be bound.
  static absl::StatusOr<std::unique_ptr<HttpFrontEnd>> Bind(const HttpFrontEndOptions& options,
                                                            MetricsRegistry* metrics);
  ~HttpFrontEnd();  // Stop()
  HttpFrontEnd(const HttpFrontEnd&) = delete;
  HttpFrontEnd& operator=(const HttpFrontEnd&) = delete;

  // Where handlers, payload limit and error handler are set, before Serve. Its listen,
  // bind, timeouts, task queue and socket options are not used.
  httplib::Server& server();
  int port() const { return port_; }
  // The lobby's connection cap after the descriptor share (limits.h).
  size_t lobby_connections_max() const { return lobby_options_.connections_max; }

  // Starts the lobby and the workers. Errors: Internal when the lobby cannot start.
  absl::Status Serve();

  // Stops accepting, closes the connections in the lobby, lets requests in flight finish
  // (cpp-httplib's chunked streams see the server stopping) and joins every thread.
  // Idempotent.
  void Stop();

  // Called from a handler: the connection of the request it answers is closed after this
  // answer, and nothing more is read from it (a body it refused is not taken for the next
  // request). Does nothing off a worker thread.
  static void CloseAfterAnswer();

  // Called from a handler before anything of the body was read: reads and drops the
  // request's next `bytes` (its body), which must keep up `bytes_per_second_min` after a
  // `grace` start. True when all were dropped; false when the client fell behind, left or
  // failed, or off a worker thread (the caller then closes the connection after its
  // answer). Lets a refused body be skipped at a pace the server chooses.
  static bool DiscardRequestBody(size_t bytes, absl::Duration grace,
                                 size_t bytes_per_second_min);

 private:
  HttpFrontEnd(const HttpFrontEndOptions& options, MetricsRegistry* metrics);
  void Work();
  // Serves requests on `c` while whole heads come within the linger; true when it goes
  // back to the lobby to wait for the next one, false when it was closed.
  bool ServeConnection(LobbyConnection* c);
  // One request; true when the connection may carry another. `peer` caches the client's
  // address for the requests served on one take of the connection.
  bool ServeRequest(LobbyConnection* c, PeerAddress* peer);

  const HttpFrontEndOptions options_;
  MetricsRegistry* const metrics_;
  LobbyOptions lobby_options_;
  std::unique_ptr<RequestServer> server_;
  int listen_fd_ = -1;  // handed to the lobby by Serve
  int port_ = 0;
  std::unique_ptr<HttpLobby> lobby_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
};

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_HTTP_FRONT_END_H_
