// The admin HTTP API: ZeroTier's controller JSON API (shared/docs/zerotier-protocol.md §6)
// plus Almanac's /status and /metrics, parsed and answered by cpp-httplib on a fixed pool
// of worker threads.
//
// Endpoints (every one needs the token, as X-ZT1-Auth, "Authorization: Bearer <t>" or
// ?auth=<t>; anything else gets 401 {}):
//   GET  /status                                    node status + role, lastSeq, epoch, counts
//   POST /status/promote                            a standby becomes the primary (promote)
//   GET  /peer                                      options.peers() ([] without a hook)
//   GET  /peer/<address>                            404 (peers are not tracked yet)
//   GET  /metrics                                   Prometheus text
//   GET  /controller                                {controller, apiVersion, clock, databaseReady}
//   GET  /controller/network                        ["<nwid>", ...]
//   POST /controller/network                        create with a random id
//   POST /controller/network/<address>______        same; 400 unless address is ours
//   GET|POST|PUT|DELETE /controller/network/<nwid>  POST = PUT: create or update
//   GET  /controller/network/<nwid>/member          {"<address>": revision, ...}
//   GET|POST|PUT|DELETE /controller/network/<nwid>/member/<address>
//   GET  /unstable/controller/network               {"data": [networks], "meta": {totalCount}}
//   GET  /unstable/controller/network/<nwid>/member {"data": [members], "meta": {totalCount,
//                                                    authorizedCount}}
//   POST /unstable/backup                           a backup now (ctl/backup/scheduler.h);
//                                                    404 without options.backup_now
//   GET  /events?after=<seq>...                     journal records as JSON lines or
//                                                    length-prefixed FlatBuffers, long poll
//                                                    or held open (ctl/api/event_stream.h)
// A change is answered only after its events are durable and applied (Sequencer::Submit
// returned), so a GET right after sees it. Bad input changes nothing and gets a 4xx with
// {"error": "<field>: <problem>"}; unknown paths 404, wrong methods 405, bodies over
// body_bytes_max 413. DELETE answers with the deleted object.
//
// Connections are accepted and held by a lobby until a whole request head has arrived
// (ctl/api/http_front_end.h), so idle, slow and kept-alive connections hold no thread.
//
// Thread safety: Start, port and Stop may be called from any thread; requests are served
// concurrently on up to worker_threads threads.
#ifndef ALMANAC_CTL_API_API_SERVER_H_
#define ALMANAC_CTL_API_API_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/api/limits.h"
#include "ctl/api/metrics.h"
#include "ctl/sequencer.h"
#include "ctl/telemetry.h"
#include "nlohmann/json.hpp"

namespace httplib {
class ContentReader;
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace almanac::api {

struct EventStreamContext;  // ctl/api/events_http.h
class HttpFrontEnd;         // ctl/api/http_front_end.h

// Almanac's ZeroTier compatibility version, reported by /status as ZeroTier's "version".
inline constexpr int kCompatVersionMajor = 1;
inline constexpr int kCompatVersionMinor = 14;
inline constexpr int kCompatVersionRev = 1;

struct ApiServerOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 9993;  // 0 = pick a free port (see ApiServer::port)
  // The admin token (authtoken.secret's content, trimmed). Must not be empty.
  std::string auth_token;
  // Recorded as the actor id of every change (never the token itself).
  std::string auth_token_id = "admin";
  std::string controller_identity_public;  // "address:0:public-hex"
  uint64_t controller_address = 0;         // 40-bit; networks are (address << 24) | n
  // GET /peer; empty gives []. Called on a request thread.
  std::function<nlohmann::json()> peers;
  // POST /unstable/backup: takes a backup now and describes it; its errors are the
  // answer's (409 for FailedPrecondition, e.g. no backup directory). Called on a request
  // thread, which it blocks until the backup is done. Empty: the path is unknown (404).
  std::function<absl::StatusOr<nlohmann::json>()> backup_now;
  // Clock for /controller and /status ("clock"); defaults to the wall clock.
  std::function<int64_t()> clock_ms;
  // Where metrics go; null: the server keeps its own. A shared registry must not be
  // rendered after the server is destroyed (its gauges read the sequencer).
  MetricsRegistry* metrics = nullptr;
  size_t worker_threads = kWorkerThreads;
  size_t body_bytes_max = kBodyBytesMax;
  int body_grace_seconds = kBodyGraceSeconds;  // see limits.h (tests shorten it)
  // Longest wait for each write of an answer (limits.h; tests shorten it).
  absl::Duration write_timeout = absl::Seconds(kWriteTimeoutSeconds);
  // The accept lobby (limits.h; tests lower or shorten them). lobby_connections_max is
  // further capped to a share of RLIMIT_NOFILE; idle_accept_defer_seconds 0 turns
  // TCP_DEFER_ACCEPT off, so idle sockets reach the lobby at once.
  size_t lobby_connections_max = kLobbyConnectionsMax;
  absl::Duration head_deadline = absl::Seconds(kHeadDeadlineSeconds);
  int idle_accept_defer_seconds = kIdleAcceptDeferSeconds;
  std::string role = "primary";  // /status "role"
  // Replication (ctl/replication/node.h): fields merged into GET /status over the ones
  // above (role, chainHash, replication lag); empty: none. Called on a request thread.
  std::function<nlohmann::json()> status_extra;
  // POST /status/promote turns a standby into the primary; its errors are the answer's
  // (409 when it is not a standby). Empty: the path is unknown (404).
  std::function<absl::StatusOr<nlohmann::json>()> promote;
};

class ApiServer {
 public:
  // Binds and starts serving. The sequencer and telemetry must outlive the server.
  // Errors: InvalidArgument for an empty token, a controller address outside 40 bits or a
  // port outside 0..65535; Unavailable "cannot listen on host:port" when binding fails.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options,
                                                          ctl::Sequencer* sequencer,
                                                          ctl::Telemetry* telemetry);
  ~ApiServer();  // Stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port (the chosen one when listen_port was 0).
  int port() const { return port_; }
  MetricsRegistry* metrics() { return metrics_; }

  // Stops accepting, finishes requests in flight and joins the threads. Idempotent.
  void Stop();

 private:
  ApiServer(const ApiServerOptions& options, ctl::Sequencer* sequencer,
            ctl::Telemetry* telemetry);
  // Answers `req`, whose body is `body` (req.body, or what HandleWithBody read).
  void Handle(const httplib::Request& req, std::string body, httplib::Response& res);
  void CountRequest(const std::string& method, const std::string& endpoint, int status);
  EventStreamContext EventContext();
  // POST/PUT/PATCH with a body: reads it at kBodyBytesPerSecondMin or better, then Handle.
  void HandleWithBody(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader);

  const ApiServerOptions options_;
  ctl::Sequencer* const sequencer_;
  ctl::Telemetry* const telemetry_;
  std::unique_ptr<MetricsRegistry> own_metrics_;
  MetricsRegistry* metrics_;
  std::unique_ptr<HttpFrontEnd> front_;
  // GET /events: set by Stop so long polls and follow streams end; streams running now.
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> event_streams_{0};
  int port_ = 0;
};

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_API_SERVER_H_
