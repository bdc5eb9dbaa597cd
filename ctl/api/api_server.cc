#include "ctl/api/api_server.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "ctl/api/api_routes.h"
#include "ctl/api/events_http.h"
#include "ctl/api/http_front_end.h"
#include "ctl/api/json_fields.h"
#include "httplib.h"
#include "sodium.h"

namespace almanac::api {
namespace {

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
  // The log's fsyncs: their rate against the writes' says how well group commit
  // batches; their time against the wall clock says how busy the disk keeps the journal.
  m->SetCounterFunction("almanac_journal_syncs_total",
                        "Fsyncs of the journal's log (synced writes and log syncs).",
                        [sequencer] {
                          return static_cast<double>(sequencer->journal()->sync_writes());
                        });
  m->SetCounterFunction("almanac_journal_sync_seconds_total",
                        "Time the journal's log fsyncs took, summed.", [sequencer] {
                          return absl::ToDoubleSeconds(sequencer->journal()->sync_time());
                        });
  // Where the sequencer's time goes, stage by stage (ctl/sequencer.h): over a busy
  // interval the stages add up to it, so their rates say what bounds the writes.
  for (const ctl::SequencerStage& stage : ctl::kSequencerStages) {
    m->SetCounterFunction(
        "almanac_sequencer_seconds_total",
        "Time the sequencer thread spent in each stage of its batches.",
        [sequencer, time = stage.time] {
          return absl::ToDoubleSeconds(sequencer->stage_times().*time);
        },
        {{"stage", stage.name}});
  }
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

  HttpFrontEndOptions front;
  front.host = options.listen_host;
  front.port = options.listen_port;
  front.worker_threads = options.worker_threads > 0 ? options.worker_threads : 1;
  front.lobby_connections_max = options.lobby_connections_max;
  front.head_deadline = options.head_deadline;
  front.write_timeout = options.write_timeout;
  front.idle_accept_defer_seconds = options.idle_accept_defer_seconds;
  absl::StatusOr<std::unique_ptr<HttpFrontEnd>> bound =
      HttpFrontEnd::Bind(front, api->metrics_);
  if (!bound.ok()) return bound.status();
  api->front_ = std::move(*bound);
  api->port_ = api->front_->port();
  api->metrics_->GetCounter("almanac_http_slow_bodies_total",
                            "Admin API request bodies refused (408) for arriving too slowly.");
  // Connections, timeouts and keep-alive are the front end's (http_front_end.h); these two
  // only shape the Keep-Alive header cpp-httplib writes.
  httplib::Server& s = api->front_->server();
  s.set_keep_alive_max_count(kKeepAliveRequestsMax);
  s.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  s.set_payload_max_length(options.body_bytes_max);
  ApiServer* self = api.get();
  const auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->Handle(req, req.body, res);
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
  // A body declared over body_max is refused before cpp-httplib reads it (limits.h,
  // kBodyDiscardBytesMax).
  const int grace_seconds = options.body_grace_seconds;
  s.set_pre_routing_handler([self, body_max, grace_seconds](const httplib::Request& req,
                                                            httplib::Response& res) {
    uint64_t declared = 0;
    if (!req.has_header("Content-Length") ||
        !absl::SimpleAtoi(req.get_header_value("Content-Length"), &declared) ||
        declared <= body_max) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const bool dropped =
        declared <= std::max<uint64_t>(kBodyDiscardBytesMax, body_max) &&
        HttpFrontEnd::DiscardRequestBody(declared, absl::Seconds(grace_seconds),
                                         kBodyBytesPerSecondMin);
    if (!dropped) {
      HttpFrontEnd::CloseAfterAnswer();
      res.set_header("Connection", "close");
    }
    res.status = 413;
    res.set_content(DumpJson(nlohmann::json{
                        {"error", absl::StrCat("body: larger than ", body_max, " bytes")}}),
                    "application/json");
    self->CountRequest(req.method, "other", 413);
    return httplib::Server::HandlerResponse::Handled;
  });
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

  if (absl::Status served = api->front_->Serve(); !served.ok()) return served;
  return api;
}

EventStreamContext ApiServer::EventContext() {
  return EventStreamContext{sequencer_->journal(), metrics_, &stopping_, &event_streams_};
}

void ApiServer::Stop() {
  if (front_ == nullptr) return;
  stopping_.store(true);
  front_->Stop();
}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::HandleWithBody(const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
  // Read beside the request rather than into a copy of it (its headers and all).
  std::string body;
  const auto start = std::chrono::steady_clock::now();
  bool too_slow = false, too_large = false;
  const bool read = reader([&](const char* data, size_t size) {
    body.append(data, size);
    if (body.size() > options_.body_bytes_max) {
      too_large = true;
      return false;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double allowed = options_.body_grace_seconds +
                           static_cast<double>(body.size()) / kBodyBytesPerSecondMin;
    if (seconds > allowed) {
      too_slow = true;
      return false;
    }
    return true;
  });
  if (read) return Handle(req, std::move(body), res);
  // cpp-httplib refused it (400 when the client stopped sending; a declared length over
  // the limit never gets here, see the pre-routing handler): its error handler writes the
  // answer.
  if (!too_slow && !too_large) return;
  // Refused here: the rest of the body is not read, the connection ends after the answer
  // (a client still sending may see a reset instead of it).
  HttpFrontEnd::CloseAfterAnswer();
  res.set_header("Connection", "close");
  if (too_slow) metrics_->GetCounter("almanac_http_slow_bodies_total", "")->Add();
  res.status = too_slow ? 408 : 413;
  const std::string message =
      too_slow ? absl::StrCat("body: slower than ", kBodyBytesPerSecondMin, " bytes/s")
               : absl::StrCat("body: larger than ", options_.body_bytes_max, " bytes");
  res.set_content(DumpJson(nlohmann::json{{"error", message}}), "application/json");
}

void ApiServer::Handle(const httplib::Request& req, std::string body, httplib::Response& res) {
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
    request.body = std::move(body);
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
