// The admin API's routing and handlers, without HTTP: a request is a method, a path split
// into parts, a body and the actor; a reply is a status, a body and its type. The HTTP
// glue (api_server.cc) authenticates, builds the request and writes the reply.
//
// Thread safety: Route may be called from many threads at once; everything it touches
// (sequencer, telemetry, metrics) is thread-safe.
#ifndef ALMANAC_CTL_API_API_ROUTES_H_
#define ALMANAC_CTL_API_API_ROUTES_H_

#include <string>
#include <vector>

#include "ctl/api/api_server.h"
#include "ctl/sequencer.h"
#include "ctl/telemetry.h"

namespace almanac::api {

struct ApiContext {
  const ApiServerOptions* options;
  ctl::Sequencer* sequencer;
  ctl::Telemetry* telemetry;
  MetricsRegistry* metrics;
};

struct ApiRequest {
  std::string method;               // "GET", "POST", ...
  std::vector<std::string> parts;   // "/controller/network/x" -> {"controller", "network", "x"}
  std::string body;
  ctl::Actor actor;
};

struct ApiReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // for 405: the methods the path accepts
};

// Handles one authenticated request. `endpoint` receives the path pattern for metrics
// ("/controller/network/{nwid}"; "other" for unknown paths).
ApiReply Route(const ApiContext& context, const ApiRequest& request, std::string* endpoint);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_API_ROUTES_H_
