#include "ctl/api/api_server.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "ctl/api/api_routes.h"
#include "ctl/api/events_http.h"
#include "ctl/api/json_fields.h"
#include "httplib.h"
#include "sodium.h"

namespace almanac::api {
namespace {

// A fixed pool of worker threads with a bounded queue of accepted connections. When the
// queue is full the accept loop blocks in enqueue, so further clients wait in the
// kernel's backlog instead of growing memory (cpp-httplib 0.11's own ThreadPool queues
// without bound).
class BoundedThreadPool : public httplib::TaskQueue {
 public:
  // `accepted` counts connections; `waited` counts those the accept loop had to wait for.
  BoundedThreadPool(size_t threads, size_t pending_max, Counter* accepted, Counter* waited)
      : pending_max_(pending_max), accepted_(accepted), waited_(waited) {
    ALMANAC_CHECK(threads > 0 && pending_max > 0);
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~BoundedThreadPool() override = default;

  void enqueue(std::function<void()> fn) override {
    accepted_->Add();
    std::unique_lock<std::mutex> lock(mu_);
    if (jobs_.size() >= pending_max_) waited_->Add();
    space_.wait(lock, [this] { return jobs_.size() < pending_max_; });
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    work_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shutting down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        space_.notify_one();
      }
      fn();
    }
  }

  const size_t pending_max_;
  Counter* const accepted_;
  Counter* const waited_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

// Stops reading the connection `req` came on (found among this process's sockets by its
// local port and the request's peer address): cpp-httplib then ends the connection after
// the answer instead of reading the rest of a refused body as the next request. Scans
// /proc/self/fd, so it is only for the rare refusal path. The socket cannot be closed
// meanwhile: its worker is the caller.
void StopReadingConnection(const httplib::Request& req, int local_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    const int sock = static_cast<int>(fd);
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
    if (getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    char local_port_text[NI_MAXSERV], host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&local), local_len, nullptr, 0,
                    local_port_text, sizeof(local_port_text), NI_NUMERICSERV) != 0 ||
        getnameinfo(reinterpret_cast<sockaddr*>(&peer), peer_len, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
      continue;
    }
    if (std::to_string(local_port) == local_port_text && req.remote_addr == host &&
        std::to_string(req.remote_port) == port) {
      shutdown(sock, SHUT_RD);
      break;
    }
  }
  closedir(dir);
}

// The token a request presents: X-ZT1-Auth, then "Authorization: Bearer", then ?auth=.
std::string PresentedToken(const httplib::Request& req) {
  if (req.has_header("X-ZT1-Auth")) return req.get_header_value("X-ZT1-Auth");
  if (req.has_header("Authorization")) {
    const std::string value = req.get_header_value("Authorization");
    constexpr char kBearer[] = "Bearer ";
    if (absl::StartsWith(value, kBearer)) return value.substr(sizeof(kBearer) - 1);
    return "";
  }
  if (req.has_param("auth")) return req.get_param_value("auth");
  return "";
}

// Constant time in the token's content (the length is not secret: it is fixed per home).
bool TokenMatches(const std::string& presented, const std::string& expected) {
  if (presented.size() != expected.size() || expected.empty()) return false;
  return sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

void RegisterMetrics(MetricsRegistry* m, ctl::Sequencer* sequencer, ctl::Telemetry* telemetry) {
  m->SetGauge("almanac_journal_last_seq", "Sequence number of the last applied record.",
              [sequencer] {
                return static_cast<double>(
                    sequencer->Read([](const state::State& s) { return s.last_seq(); }));
              });
  m->SetCounterFunction("almanac_sequencer_batches_written_total",
                        "Journal writes (group commits) done by the sequencer.",
                        [sequencer] { return static_cast<double>(sequencer->batches_written()); });
  m->SetCounterFunction("almanac_sequencer_commands_refused_total",
                        "Commands the sequencer refused (nothing written).",
                        [sequencer] { return static_cast<double>(sequencer->commands_refused()); });
  m->SetGauge("almanac_networks", "Networks in the state.", [sequencer] {
    return static_cast<double>(
        sequencer->Read([](const state::State& s) { return s.network_count(); }));
  });
  m->SetGauge("almanac_members", "Members in the state, over all networks.", [sequencer] {
    return static_cast<double>(
        sequencer->Read([](const state::State& s) { return s.member_count(); }));
  });
  if (telemetry != nullptr) {
    m->SetGauge("almanac_telemetry_entries", "Members with telemetry kept in memory.",
                [telemetry] { return static_cast<double>(telemetry->size()); });
    m->SetCounterFunction("almanac_telemetry_dropped_total",
                          "Telemetry sightings dropped because the table was full.",
                          [telemetry] { return static_cast<double>(telemetry->dropped()); });
  }
}

}  // namespace

ApiServer::ApiServer(const ApiServerOptions& options, ctl::Sequencer* sequencer,
                     ctl::Telemetry* telemetry)
    : options_(options), sequencer_(sequencer), telemetry_(telemetry) {
  if (options_.metrics != nullptr) {
    metrics_ = options_.metrics;
  } else {
    own_metrics_ = std::make_unique<MetricsRegistry>();
    metrics_ = own_metrics_.get();
  }
}

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options,
                                                             ctl::Sequencer* sequencer,
                                                             ctl::Telemetry* telemetry) {
  ALMANAC_CHECK(sequencer != nullptr);
  if (options.auth_token.empty()) {
    return absl::InvalidArgumentError("the admin API needs a non-empty auth token");
  }
  if (options.controller_address == 0 || (options.controller_address >> 40) != 0) {
    return absl::InvalidArgumentError("controller address must be a non-zero 40-bit value");
  }
  if (options.listen_port < 0 || options.listen_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.listen_port,
                                                   " is outside 0..65535"));
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialize");
  std::unique_ptr<ApiServer> api(new ApiServer(options, sequencer, telemetry));
  RegisterMetrics(api->metrics_, sequencer, telemetry);
  RegisterEventMetrics(api->EventContext());

  api->server_ = std::make_unique<httplib::Server>();
  httplib::Server& s = *api->server_;
  const size_t threads = options.worker_threads > 0 ? options.worker_threads : 1;
  Counter* accepted = api->metrics_->GetCounter("almanac_http_connections_total",
                                                 "Admin API connections accepted.");
  Counter* waited = api->metrics_->GetCounter(
      "almanac_http_connections_waited_total",
      "Admin API connections the accept loop held back while kPendingConnectionsMax waited "
      "for a worker.");
  api->metrics_->GetCounter("almanac_http_slow_bodies_total",
                            "Admin API request bodies refused (408) for arriving too slowly.");
  s.new_task_queue = [threads, accepted, waited] {
    return new BoundedThreadPool(threads, kPendingConnectionsMax, accepted, waited);
  };
  // Connections that send nothing stay in the kernel for a while (limits.h); the listening
  // socket is kept to widen cpp-httplib's backlog once it listens.
  auto listen_fd = std::make_shared<int>(-1);
  s.set_socket_options([listen_fd](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    int defer = kIdleAcceptDeferSeconds;
    setsockopt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
    *listen_fd = sock;
  });
  s.set_tcp_nodelay(true);
  s.set_payload_max_length(options.body_bytes_max);
  s.set_keep_alive_max_count(kKeepAliveRequestsMax);
  s.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  s.set_read_timeout(kReadTimeoutSeconds, 0);
  s.set_write_timeout(kWriteTimeoutSeconds, 0);
  ApiServer* self = api.get();
  const auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->Handle(req, res);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
  s.Options(".*", handler);
  // Requests with a body go through the paced reader first.
  const auto body_handler = [self](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
    self->HandleWithBody(req, res, reader);
  };
  s.Post(".*", body_handler);
  s.Put(".*", body_handler);
  s.Patch(".*", body_handler);
  const size_t body_max = options.body_bytes_max;
  // Errors cpp-httplib answers itself (413 over the body limit, 400 for a broken request)
  // get a JSON body naming the problem; replies that already have a body keep it.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [body_max](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = absl::StrCat("HTTP ", res.status);
    if (res.status == 413) message = absl::StrCat("body: larger than ", body_max, " bytes");
    res.set_content(DumpJson(nlohmann::json{{"error", message}}), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"error":"internal error"})", "application/json");
      });

  const std::string where = absl::StrCat(options.listen_host, ":", options.listen_port);
  if (options.listen_port == 0) {
    api->port_ = s.bind_to_any_port(options.listen_host);
    if (api->port_ <= 0) return absl::UnavailableError("cannot listen on " + where);
  } else {
    if (!s.bind_to_port(options.listen_host, options.listen_port)) {
      return absl::UnavailableError("cannot listen on " + where);
    }
    api->port_ = options.listen_port;
  }
  // listen() again on a listening socket only changes its backlog (see kListenBacklog).
  if (*listen_fd >= 0 && listen(*listen_fd, kListenBacklog) != 0) {
    return absl::UnavailableError("cannot widen the listen backlog on " + where);
  }
  api->listen_thread_ = std::thread([self] {
    if (!self->server_->listen_after_bind()) {
      // Only reached when the accept loop could not start; Stop still joins cleanly.
    }
    self->listen_returned_.store(true);
  });
  // cpp-httplib's stop() does nothing before the accept loop runs: wait for it to start
  // so that an immediate Stop cannot leave the loop running forever.
  while (!s.is_running() && !api->listen_returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return api;
}

EventStreamContext ApiServer::EventContext() {
  return EventStreamContext{sequencer_->journal(), metrics_, &stopping_, &event_streams_};
}

void ApiServer::Stop() {
  if (!listen_thread_.joinable()) return;
  stopping_.store(true);
  server_->stop();
  listen_thread_.join();
}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::HandleWithBody(const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
  httplib::Request full = req;
  const auto start = std::chrono::steady_clock::now();
  bool too_slow = false, too_large = false;
  const bool read = reader([&](const char* data, size_t size) {
    full.body.append(data, size);
    if (full.body.size() > options_.body_bytes_max) {
      too_large = true;
      return false;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double allowed = options_.body_grace_seconds +
                           static_cast<double>(full.body.size()) / kBodyBytesPerSecondMin;
    if (seconds > allowed) {
      too_slow = true;
      return false;
    }
    return true;
  });
  if (read) return Handle(full, res);
  // cpp-httplib refused it (413 over the declared length, the body skipped; 400 when the
  // client stopped sending): its error handler writes the answer.
  if (!too_slow && !too_large) return;
  // Refused here: the rest of the body is not read, the connection ends after the answer
  // (a client still sending may see a reset instead of it).
  StopReadingConnection(req, port_);
  res.set_header("Connection", "close");
  if (too_slow) metrics_->GetCounter("almanac_http_slow_bodies_total", "")->Add();
  res.status = too_slow ? 408 : 413;
  const std::string message =
      too_slow ? absl::StrCat("body: slower than ", kBodyBytesPerSecondMin, " bytes/s")
               : absl::StrCat("body: larger than ", options_.body_bytes_max, " bytes");
  res.set_content(DumpJson(nlohmann::json{{"error", message}}), "application/json");
}

void ApiServer::Handle(const httplib::Request& req, httplib::Response& res) {
  std::string endpoint = "other";
  ApiReply reply;
  if (!TokenMatches(PresentedToken(req), options_.auth_token)) {
    reply.status = 401;
    reply.body = "{}";
  } else if (req.path == "/events") {
    // Streams write their own response (possibly chunked, long after this returns).
    ServeEvents(EventContext(), req, res);
    CountRequest(req.method, "/events", res.status);
    return;
  } else {
    ApiRequest request;
    request.method = req.method == "HEAD" ? "GET" : req.method;
    for (absl::string_view part : absl::StrSplit(req.path, '/', absl::SkipEmpty())) {
      request.parts.emplace_back(part);
    }
    request.body = req.body;
    request.actor.kind = schema::ActorKind::AdminToken;
    request.actor.id = options_.auth_token_id;
    request.actor.source = absl::StrCat(req.remote_addr, ":", req.remote_port);
    const ApiContext context{&options_, sequencer_, telemetry_, metrics_};
    reply = Route(context, request, &endpoint);
  }
  res.status = reply.status;
  if (!reply.allow.empty()) res.set_header("Allow", reply.allow);
  res.set_content(reply.body, reply.content_type.c_str());
  CountRequest(req.method, endpoint, reply.status);
}

void ApiServer::CountRequest(const std::string& method, const std::string& endpoint,
                             int status) {
  metrics_
      ->GetCounter("almanac_http_requests_total", "Admin API requests by endpoint and status.",
                   {{"endpoint", endpoint}, {"method", method}, {"status", std::to_string(status)}})
      ->Add();
}

}  // namespace almanac::api
