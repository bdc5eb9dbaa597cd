#include "ctl/api/api_routes.h"

#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/limits.h"
#include "ctl/api/member_json.h"
#include "ctl/api/member_text.h"
#include "ctl/api/network_json.h"
#include "ctl/api/status_http.h"
#include "ctl/commands/member_commands.h"
#include "ctl/commands/network_commands.h"

namespace almanac::api {
namespace {

using nlohmann::json;

ApiReply Json(const json& value, int status = 200) {
  ApiReply reply;
  reply.status = status;
  reply.body = DumpJson(value);
  return reply;
}

ApiReply Error(const absl::Status& status) {
  ApiReply reply;
  reply.status = HttpStatusFor(status);
  reply.body = ErrorBody(status);
  return reply;
}

ApiReply MethodNotAllowed(const std::string& allow) {
  ApiReply reply = Error(absl::InvalidArgumentError("method not allowed"));
  reply.status = 405;
  reply.allow = allow;
  return reply;
}

int64_t NowMs(const ApiContext& c) {
  return c.options->clock_ms ? c.options->clock_ms() : absl::ToUnixMillis(absl::Now());
}

// 16 hex digits (either case).
absl::StatusOr<uint64_t> ParseNetworkId(const std::string& text) {
  if (text.size() != 16) return FieldError("network id", "expected 16 hex digits");
  uint64_t value = 0;
  for (char ch : text) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      return FieldError("network id", "expected 16 hex digits");
    }
    value = (value << 4) | static_cast<uint64_t>(d);
  }
  return value;
}

absl::Status NetworkNotFound(uint64_t nwid) {
  return absl::NotFoundError(absl::StrCat("network ", state::NetworkIdHex(nwid), " not found"));
}

MemberLiveFields LiveFields(const ApiContext& c, uint64_t nwid, uint64_t address) {
  MemberLiveFields live;
  if (c.telemetry == nullptr) return live;
  std::optional<ctl::MemberTelemetry> t = c.telemetry->Get(nwid, address);
  if (!t) return live;
  live.last_seen_ms = t->last_seen_ms;
  live.physical_address = t->physical_address;
  live.v_major = t->version_major;
  live.v_minor = t->version_minor;
  live.v_rev = t->version_revision;
  live.v_proto = t->protocol_version;
  return live;
}

ApiReply GetNetwork(const ApiContext& c, uint64_t nwid) {
  std::optional<json> j = c.sequencer->Read([&](const state::State& s) -> std::optional<json> {
    const state::Network* n = s.FindNetwork(nwid);
    if (n == nullptr) return std::nullopt;
    return RenderNetwork(*n);
  });
  if (!j) return Error(NetworkNotFound(nwid));
  return Json(*j);
}

ApiReply GetMember(const ApiContext& c, uint64_t nwid, uint64_t address) {
  std::optional<state::Member> m =
      c.sequencer->Read([&](const state::State& s) -> std::optional<state::Member> {
        const state::Member* found = s.FindMember(nwid, address);
        if (found == nullptr) return std::nullopt;
        return *found;
      });
  if (!m) {
    const bool network = c.sequencer->Read(
        [&](const state::State& s) { return s.FindNetwork(nwid) != nullptr; });
    if (!network) return Error(NetworkNotFound(nwid));
    return Error(absl::NotFoundError(
        absl::StrCat("member ", state::AddressHex(address), " not found")));
  }
  ApiReply reply;
  AppendMemberJson(*m, LiveFields(c, nwid, address), &reply.body);
  return reply;
}

// POST/PUT of a network: create (random id when nwid is nullopt) or update.
ApiReply PostNetwork(const ApiContext& c, const ApiRequest& r, std::optional<uint64_t> nwid) {
  absl::StatusOr<json> body = ParseBodyObject(r.body);
  if (!body.ok()) return Error(body.status());
  absl::StatusOr<NetworkPatch> patch = ParseNetworkPatch(*body);
  if (!patch.ok()) return Error(patch.status());
  auto outcome = std::make_shared<commands::NetworkOutcome>();
  commands::NetworkEdit edit = MakeNetworkEdit(*std::move(patch));
  ctl::Command command =
      nwid ? commands::PutNetworkCommand(r.actor, *nwid, std::move(edit), outcome)
           : commands::CreateNetworkCommand(r.actor, c.options->controller_address,
                                            std::move(edit), outcome);
  absl::StatusOr<ctl::CommitResult> done = c.sequencer->Submit(std::move(command));
  if (!done.ok()) return Error(done.status());
  return GetNetwork(c, outcome->nwid);
}

ApiReply DeleteNetwork(const ApiContext& c, const ApiRequest& r, uint64_t nwid) {
  auto outcome = std::make_shared<commands::NetworkOutcome>();
  absl::StatusOr<ctl::CommitResult> done =
      c.sequencer->Submit(commands::DeleteNetworkCommand(r.actor, nwid, outcome));
  if (!done.ok()) return Error(done.status());
  if (c.telemetry != nullptr) c.telemetry->ForgetNetwork(nwid);
  return Json(RenderNetwork(*outcome->deleted));
}

ApiReply PostMember(const ApiContext& c, const ApiRequest& r, uint64_t nwid, uint64_t address) {
  absl::StatusOr<json> body = ParseBodyObject(r.body);
  if (!body.ok()) return Error(body.status());
  absl::StatusOr<MemberPatch> patch = ParseMemberPatch(*body);
  if (!patch.ok()) return Error(patch.status());
  const bool sets_ips = patch->ip_assignments.has_value();
  auto outcome = std::make_shared<commands::MemberOutcome>();
  absl::StatusOr<ctl::CommitResult> done = c.sequencer->Submit(commands::PutMemberCommand(
      r.actor, nwid, address, MakeMemberEdit(*std::move(patch)), sets_ips, outcome));
  if (!done.ok()) return Error(done.status());
  return GetMember(c, nwid, address);
}

ApiReply DeleteMember(const ApiContext& c, const ApiRequest& r, uint64_t nwid,
                      uint64_t address) {
  auto outcome = std::make_shared<commands::MemberOutcome>();
  absl::StatusOr<ctl::CommitResult> done =
      c.sequencer->Submit(commands::DeleteMemberCommand(r.actor, nwid, address, outcome));
  if (!done.ok()) return Error(done.status());
  const MemberLiveFields live = LiveFields(c, nwid, address);
  if (c.telemetry != nullptr) c.telemetry->Forget(nwid, address);
  return Json(RenderMember(*outcome->deleted, live));
}

// Renders straight into the reply, no copies of the members and no JSON tree, in chunks
// that each hold the state's reader lock briefly (member_text.h).
ApiReply ListMembers(const ApiContext& c, uint64_t nwid, bool unstable) {
  ApiReply reply;
  const bool found = RenderMemberList(
      [&c](const std::function<void(const state::State&)>& f) {
        c.sequencer->Read([&f](const state::State& s) { f(s); });
      },
      nwid, unstable, [&c, nwid](uint64_t address) { return LiveFields(c, nwid, address); },
      kListChunkMembers, &reply.body);
  if (!found) return Error(NetworkNotFound(nwid));
  return reply;
}

ApiReply ListNetworks(const ApiContext& c, bool unstable) {
  json list = c.sequencer->Read([&](const state::State& s) {
    json out = json::array();
    for (uint64_t nwid : s.NetworkIdsSorted()) {
      if (unstable) {
        out.push_back(RenderNetwork(*s.FindNetwork(nwid)));
      } else {
        out.push_back(state::NetworkIdHex(nwid));
      }
    }
    return out;
  });
  if (!unstable) return Json(list);
  const size_t count = list.size();
  return Json({{"data", std::move(list)}, {"meta", {{"totalCount", count}}}});
}

ApiReply Status(const ApiContext& c) {
  json j = c.sequencer->Read([](const state::State& s) {
    return json{{"lastSeq", s.last_seq()},
                {"networks", s.network_count()},
                {"members", s.member_count()}};
  });
  j["address"] = state::AddressHex(c.options->controller_address);
  j["publicIdentity"] = c.options->controller_identity_public;
  j["version"] = absl::StrFormat("%d.%d.%d", kCompatVersionMajor, kCompatVersionMinor,
                                 kCompatVersionRev);
  j["versionMajor"] = kCompatVersionMajor;
  j["versionMinor"] = kCompatVersionMinor;
  j["versionRev"] = kCompatVersionRev;
  j["online"] = true;
  j["clock"] = NowMs(c);
  j["role"] = c.options->role;
  j["epoch"] = c.sequencer->epoch();
  if (c.options->status_extra) j.update(c.options->status_extra());
  return Json(j);
}

// /controller/network/<nwid>[/member[/<address>]]
ApiReply RouteNetwork(const ApiContext& c, const ApiRequest& r, std::string* endpoint) {
  const std::vector<std::string>& p = r.parts;
  const std::string& id = p[2];
  // "<10-hex address>______": create with a random id under that controller address.
  if (p.size() == 3 && id.size() == 16 && id.compare(10, 6, "______") == 0) {
    *endpoint = "/controller/network/{address}______";
    if (r.method != "POST" && r.method != "PUT") return MethodNotAllowed("POST, PUT");
    absl::StatusOr<uint64_t> address = ReadAddressText(id.substr(0, 10), "controller address");
    if (!address.ok()) return Error(address.status());
    if (*address != c.options->controller_address) {
      return Error(FieldError("controller address", absl::StrCat(
          id.substr(0, 10), " is not this controller (",
          state::AddressHex(c.options->controller_address), ")")));
    }
    return PostNetwork(c, r, std::nullopt);
  }
  if (p.size() == 3) *endpoint = "/controller/network/{nwid}";
  if (p.size() == 4 && p[3] == "member") *endpoint = "/controller/network/{nwid}/member";
  if (p.size() == 5 && p[3] == "member") {
    *endpoint = "/controller/network/{nwid}/member/{address}";
  }
  if (*endpoint == "other") return Error(absl::NotFoundError("no such endpoint"));
  absl::StatusOr<uint64_t> nwid = ParseNetworkId(id);
  if (!nwid.ok()) return Error(nwid.status());
  const bool ours = (*nwid >> 24) == c.options->controller_address;
  if (p.size() == 3) {
    if (r.method == "GET") return GetNetwork(c, *nwid);
    if (r.method == "DELETE") return DeleteNetwork(c, r, *nwid);
    if (r.method != "POST" && r.method != "PUT") return MethodNotAllowed("GET, POST, PUT, DELETE");
    if (!ours) {
      return Error(FieldError("network id", absl::StrCat(
          "controller part ", state::AddressHex(*nwid >> 24), " is not this controller (",
          state::AddressHex(c.options->controller_address), ")")));
    }
    return PostNetwork(c, r, *nwid);
  }
  if (p.size() == 4) {
    if (r.method != "GET") return MethodNotAllowed("GET");
    return ListMembers(c, *nwid, /*unstable=*/false);
  }
  absl::StatusOr<uint64_t> address = ReadAddressText(p[4], "member address");
  if (!address.ok()) return Error(address.status());
  if (r.method == "GET") return GetMember(c, *nwid, *address);
  if (r.method == "DELETE") return DeleteMember(c, r, *nwid, *address);
  if (r.method != "POST" && r.method != "PUT") return MethodNotAllowed("GET, POST, PUT, DELETE");
  return PostMember(c, r, *nwid, *address);
}

ApiReply RouteUnstable(const ApiContext& c, const ApiRequest& r, std::string* endpoint) {
  const std::vector<std::string>& p = r.parts;
  if (p.size() == 3 && p[1] == "controller" && p[2] == "network") {
    *endpoint = "/unstable/controller/network";
    if (r.method != "GET") return MethodNotAllowed("GET");
    return ListNetworks(c, /*unstable=*/true);
  }
  if (p.size() == 5 && p[1] == "controller" && p[2] == "network" && p[4] == "member") {
    *endpoint = "/unstable/controller/network/{nwid}/member";
    if (r.method != "GET") return MethodNotAllowed("GET");
    absl::StatusOr<uint64_t> nwid = ParseNetworkId(p[3]);
    if (!nwid.ok()) return Error(nwid.status());
    return ListMembers(c, *nwid, /*unstable=*/true);
  }
  if (p.size() == 2 && p[1] == "backup" && c.options->backup_now) {
    *endpoint = "/unstable/backup";
    if (r.method != "POST") return MethodNotAllowed("POST");
    absl::StatusOr<json> made = c.options->backup_now();
    if (!made.ok()) return Error(made.status());
    return Json(*made);
  }
  return Error(absl::NotFoundError("no such endpoint"));
}

}  // namespace

ApiReply Route(const ApiContext& c, const ApiRequest& r, std::string* endpoint) {
  *endpoint = "other";
  const std::vector<std::string>& p = r.parts;
  if (p.empty()) return Error(absl::NotFoundError("no such endpoint"));
  const bool get = r.method == "GET";
  if (p[0] == "status" && p.size() == 1) {
    *endpoint = "/status";
    return get ? Status(c) : MethodNotAllowed("GET");
  }
  if (p[0] == "status" && p.size() == 2 && p[1] == "promote" && c.options->promote) {
    *endpoint = "/status/promote";
    if (r.method != "POST") return MethodNotAllowed("POST");
    absl::StatusOr<json> promoted = c.options->promote();
    if (!promoted.ok()) return Error(promoted.status());
    return Json(*promoted);
  }
  if (p[0] == "metrics" && p.size() == 1) {
    *endpoint = "/metrics";
    if (!get) return MethodNotAllowed("GET");
    ApiReply reply;
    reply.body = c.metrics->Render();
    reply.content_type = "text/plain; version=0.0.4";
    return reply;
  }
  if (p[0] == "peer" && p.size() <= 2) {
    *endpoint = p.size() == 1 ? "/peer" : "/peer/{address}";
    if (!get) return MethodNotAllowed("GET");
    if (p.size() == 2) return Error(absl::NotFoundError("peer " + p[1] + " not known"));
    return Json(c.options->peers ? c.options->peers() : json::array());
  }
  if (p[0] == "controller") {
    if (p.size() == 1) {
      *endpoint = "/controller";
      if (!get) return MethodNotAllowed("GET");
      return Json({{"controller", true},
                   {"apiVersion", 4},
                   {"clock", NowMs(c)},
                   {"databaseReady", true}});
    }
    if (p[1] != "network") return Error(absl::NotFoundError("no such endpoint"));
    if (p.size() == 2) {
      *endpoint = "/controller/network";
      if (get) return ListNetworks(c, /*unstable=*/false);
      if (r.method == "POST" || r.method == "PUT") return PostNetwork(c, r, std::nullopt);
      return MethodNotAllowed("GET, POST, PUT");
    }
    if (p.size() <= 5) return RouteNetwork(c, r, endpoint);
  }
  if (p[0] == "unstable") return RouteUnstable(c, r, endpoint);
  return Error(absl::NotFoundError("no such endpoint"));
}

}  // namespace almanac::api
