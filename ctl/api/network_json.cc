#include "ctl/api/network_json.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/limits.h"
#include "ctl/net/ip.h"
#include "ctl/net/limits.h"
#include "ctl/net/rules.h"

namespace almanac::api {
namespace {

using nlohmann::json;

constexpr char kDefaultRulesJson[] = R"([{"type":"ACTION_ACCEPT"}])";

absl::StatusOr<std::string> ReadIpText(const json& value, const std::string& field) {
  if (!value.is_string()) return FieldError(field, "expected an IP address string");
  absl::StatusOr<net::IpAddress> ip = net::IpAddress::Parse(value.get<std::string>());
  if (!ip.ok()) return FieldError(field, ip.status().message());
  return ip->ToString();
}

absl::StatusOr<std::vector<state::Route>> ReadRoutes(const json& value) {
  if (absl::Status s = CheckArray(value, "routes", kArrayEntriesMax); !s.ok()) return s;
  std::vector<state::Route> routes;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("routes[", i, "]");
    const json& r = value[i];
    if (!r.is_object()) return FieldError(at, "expected an object");
    auto target = r.find("target");
    if (target == r.end() || !target->is_string()) {
      return FieldError(at + ".target", "expected an IP prefix string (\"10.0.0.0/24\")");
    }
    absl::StatusOr<net::IpPrefix> prefix = net::IpPrefix::Parse(target->get<std::string>());
    if (!prefix.ok()) return FieldError(at + ".target", prefix.status().message());
    state::Route route{prefix->ToString(), ""};
    auto via = r.find("via");
    const bool no_via = via == r.end() || via->is_null() ||
                        (via->is_string() && via->get<std::string>().empty());
    if (!no_via) {
      absl::StatusOr<std::string> via_text = ReadIpText(*via, at + ".via");
      if (!via_text.ok()) return via_text.status();
      if (net::IpAddress::Parse(*via_text)->family() != prefix->family()) {
        return FieldError(at + ".via", "not the same IP family as the target");
      }
      route.via = *via_text;
    }
    routes.push_back(std::move(route));
  }
  return routes;
}

absl::StatusOr<std::vector<state::IpPool>> ReadPools(const json& value) {
  if (absl::Status s = CheckArray(value, "ipAssignmentPools", kArrayEntriesMax); !s.ok()) {
    return s;
  }
  std::vector<state::IpPool> pools;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("ipAssignmentPools[", i, "]");
    const json& p = value[i];
    if (!p.is_object()) return FieldError(at, "expected an object");
    auto start = p.find("ipRangeStart");
    auto end = p.find("ipRangeEnd");
    if (start == p.end()) return FieldError(at + ".ipRangeStart", "missing");
    if (end == p.end()) return FieldError(at + ".ipRangeEnd", "missing");
    absl::StatusOr<std::string> start_text = ReadIpText(*start, at + ".ipRangeStart");
    if (!start_text.ok()) return start_text.status();
    absl::StatusOr<std::string> end_text = ReadIpText(*end, at + ".ipRangeEnd");
    if (!end_text.ok()) return end_text.status();
    const net::IpAddress a = *net::IpAddress::Parse(*start_text);
    const net::IpAddress b = *net::IpAddress::Parse(*end_text);
    if (a.family() != b.family()) {
      return FieldError(at, "ipRangeStart and ipRangeEnd are of different IP families");
    }
    if (b < a) return FieldError(at, "ipRangeStart is after ipRangeEnd");
    pools.push_back(state::IpPool{*start_text, *end_text});
  }
  return pools;
}

absl::StatusOr<std::optional<state::Dns>> ReadDns(const json& value) {
  // ZeroTier renders an unset DNS as []; accept that (and null) back as "unset".
  if (value.is_null() || (value.is_array() && value.empty())) return std::nullopt;
  if (!value.is_object()) return FieldError("dns", "expected an object {domain, servers}");
  state::Dns dns;
  if (auto d = value.find("domain"); d != value.end()) {
    absl::StatusOr<std::string> domain = ReadString(*d, "dns.domain", kDnsDomainBytesMax, true);
    if (!domain.ok()) return domain.status();
    dns.domain = *std::move(domain);
  }
  if (auto s = value.find("servers"); s != value.end() && !s->is_null()) {
    if (absl::Status st = CheckArray(*s, "dns.servers", kDnsServersMax); !st.ok()) return st;
    for (size_t i = 0; i < s->size(); ++i) {
      absl::StatusOr<std::string> ip = ReadIpText((*s)[i], absl::StrCat("dns.servers[", i, "]"));
      if (!ip.ok()) return ip.status();
      dns.servers.push_back(*std::move(ip));
    }
  }
  return dns;
}

absl::Status CheckCapabilities(const json& value) {
  if (absl::Status s = CheckArray(value, "capabilities", net::kNetworkCapabilitiesMax);
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("capabilities[", i, "]");
    const json& c = value[i];
    if (!c.is_object()) return FieldError(at, "expected an object");
    auto id = c.find("id");
    if (id == c.end()) return FieldError(at + ".id", "missing");
    if (auto v = ReadInteger(*id, at + ".id", 0, 0xffffffffLL); !v.ok()) return v.status();
    if (auto d = c.find("default"); d != c.end()) {
      if (auto b = ReadBool(*d, at + ".default"); !b.ok()) return b.status();
    }
    auto rules = c.find("rules");
    if (rules == c.end()) return FieldError(at + ".rules", "missing");
    if (absl::Status s = net::ValidateRules(*rules, net::kCapabilityRulesMax, at + ".rules");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTags(const json& value) {
  if (absl::Status s = CheckArray(value, "tags", net::kNetworkTagsMax); !s.ok()) return s;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("tags[", i, "]");
    const json& t = value[i];
    if (!t.is_object()) return FieldError(at, "expected an object");
    auto id = t.find("id");
    if (id == t.end()) return FieldError(at + ".id", "missing");
    if (auto v = ReadInteger(*id, at + ".id", 0, 0xffffffffLL); !v.ok()) return v.status();
    if (auto d = t.find("default"); d != t.end() && !d->is_null()) {
      if (auto v = ReadInteger(*d, at + ".default", 0, 0xffffffffLL); !v.ok()) {
        return v.status();
      }
    }
  }
  return absl::OkStatus();
}

// Reads one boolean field when present.
absl::Status MaybeBool(const json& obj, const char* key, const std::string& field,
                       std::optional<bool>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  absl::StatusOr<bool> v = ReadBool(*it, field);
  if (!v.ok()) return v.status();
  *out = *v;
  return absl::OkStatus();
}

absl::Status ReadAssignModes(const json& body, NetworkPatch& p) {
  if (auto v4 = body.find("v4AssignMode"); v4 != body.end()) {
    if (!v4->is_object()) return FieldError("v4AssignMode", "expected an object");
    if (auto s = MaybeBool(*v4, "zt", "v4AssignMode.zt", &p.v4_assign_zt); !s.ok()) return s;
  }
  if (auto v6 = body.find("v6AssignMode"); v6 != body.end()) {
    if (!v6->is_object()) return FieldError("v6AssignMode", "expected an object");
    if (auto s = MaybeBool(*v6, "zt", "v6AssignMode.zt", &p.v6_assign_zt); !s.ok()) return s;
    if (auto s = MaybeBool(*v6, "rfc4193", "v6AssignMode.rfc4193", &p.v6_assign_rfc4193);
        !s.ok()) {
      return s;
    }
    if (auto s = MaybeBool(*v6, "6plane", "v6AssignMode.6plane", &p.v6_assign_6plane);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadScalars(const json& body, NetworkPatch& p) {
  if (auto it = body.find("name"); it != body.end()) {
    absl::StatusOr<std::string> v = ReadString(*it, "name", kNameBytesMax, true);
    if (!v.ok()) return v.status();
    p.name = *std::move(v);
  }
  if (auto s = MaybeBool(body, "private", "private", &p.private_network); !s.ok()) return s;
  if (auto s = MaybeBool(body, "enableBroadcast", "enableBroadcast", &p.enable_broadcast);
      !s.ok()) {
    return s;
  }
  if (auto s = MaybeBool(body, "ssoEnabled", "ssoEnabled", &p.sso_enabled); !s.ok()) return s;
  if (auto it = body.find("mtu"); it != body.end()) {
    absl::StatusOr<int64_t> v = ReadClampedInteger(*it, "mtu", kMtuMin, kMtuMax);
    if (!v.ok()) return v.status();
    p.mtu = static_cast<uint32_t>(*v);
  }
  if (auto it = body.find("multicastLimit"); it != body.end()) {
    absl::StatusOr<int64_t> v =
        ReadClampedInteger(*it, "multicastLimit", 0, kMulticastLimitMax);
    if (!v.ok()) return v.status();
    p.multicast_limit = static_cast<uint32_t>(*v);
  }
  if (absl::Status s = ReadRemoteTrace(body, &p.remote_trace_target, &p.remote_trace_level);
      !s.ok()) {
    return s;
  }
  if (auto it = body.find("rulesSource"); it != body.end()) {
    absl::StatusOr<std::string> v = ReadString(*it, "rulesSource", kRulesSourceBytesMax, true);
    if (!v.ok()) return v.status();
    p.rules_source = *std::move(v);
  }
  return absl::OkStatus();
}

absl::Status ReadArrays(const json& body, NetworkPatch& p) {
  if (auto it = body.find("routes"); it != body.end()) {
    auto v = ReadRoutes(*it);
    if (!v.ok()) return v.status();
    p.routes = *std::move(v);
  }
  if (auto it = body.find("ipAssignmentPools"); it != body.end()) {
    auto v = ReadPools(*it);
    if (!v.ok()) return v.status();
    p.ip_assignment_pools = *std::move(v);
  }
  if (auto it = body.find("rules"); it != body.end()) {
    if (absl::Status s = net::ValidateRules(*it); !s.ok()) return s;
    p.rules_json = DumpJson(*it);
  }
  if (auto it = body.find("capabilities"); it != body.end()) {
    if (absl::Status s = CheckCapabilities(*it); !s.ok()) return s;
    p.capabilities_json = it->empty() ? "" : DumpJson(*it);
  }
  if (auto it = body.find("tags"); it != body.end()) {
    if (absl::Status s = CheckTags(*it); !s.ok()) return s;
    p.tags_json = it->empty() ? "" : DumpJson(*it);
  }
  if (auto it = body.find("dns"); it != body.end()) {
    auto v = ReadDns(*it);
    if (!v.ok()) return v.status();
    p.dns = *std::move(v);
  }
  return absl::OkStatus();
}

json ParseStored(const std::string& text, const char* fallback) {
  json parsed = json::parse(text.empty() ? std::string(fallback) : text, nullptr, false);
  // Stored JSON was validated before it was written; a value that no longer parses is
  // rendered as the default rather than failing every GET of the network.
  if (parsed.is_discarded()) return json::parse(fallback);
  return parsed;
}

}  // namespace

absl::StatusOr<NetworkPatch> ParseNetworkPatch(const json& body) {
  if (!body.is_object()) return FieldError("body", "expected a JSON object");
  NetworkPatch patch;
  if (absl::Status s = ReadScalars(body, patch); !s.ok()) return s;
  if (absl::Status s = ReadAssignModes(body, patch); !s.ok()) return s;
  if (absl::Status s = ReadArrays(body, patch); !s.ok()) return s;
  return patch;
}

state::NetworkConfig ApplyNetworkPatch(const state::NetworkConfig& old,
                                       const NetworkPatch& p) {
  state::NetworkConfig c = old;
  if (p.name) c.name = *p.name;
  if (p.private_network) c.private_network = *p.private_network;
  if (p.enable_broadcast) c.enable_broadcast = *p.enable_broadcast;
  if (p.multicast_limit) c.multicast_limit = *p.multicast_limit;
  if (p.mtu) c.mtu = *p.mtu;
  if (p.v4_assign_zt) c.v4_assign_zt = *p.v4_assign_zt;
  if (p.v6_assign_rfc4193) c.v6_assign_rfc4193 = *p.v6_assign_rfc4193;
  if (p.v6_assign_zt) c.v6_assign_zt = *p.v6_assign_zt;
  if (p.v6_assign_6plane) c.v6_assign_6plane = *p.v6_assign_6plane;
  if (p.routes) c.routes = *p.routes;
  if (p.ip_assignment_pools) c.ip_assignment_pools = *p.ip_assignment_pools;
  if (p.rules_json) c.rules_json = *p.rules_json;
  if (p.capabilities_json) c.capabilities_json = *p.capabilities_json;
  if (p.tags_json) c.tags_json = *p.tags_json;
  if (p.dns) c.dns = *p.dns;
  if (p.remote_trace_target) c.remote_trace_target = *p.remote_trace_target;
  if (p.remote_trace_level) c.remote_trace_level = *p.remote_trace_level;
  if (p.rules_source) c.rules_source = *p.rules_source;
  if (p.sso_enabled) c.sso_enabled = *p.sso_enabled;
  // The default rule set is stored as "" so that equal configs have equal bytes.
  if (c.rules_json == json::parse(kDefaultRulesJson).dump()) c.rules_json.clear();
  return c;
}

json RenderNetworkConfig(const state::NetworkConfig& c) {
  json j = json::object();
  j["name"] = c.name;
  j["private"] = c.private_network;
  j["enableBroadcast"] = c.enable_broadcast;
  j["multicastLimit"] = c.multicast_limit;
  j["mtu"] = c.mtu;
  j["v4AssignMode"] = {{"zt", c.v4_assign_zt}};
  j["v6AssignMode"] = {
      {"6plane", c.v6_assign_6plane}, {"rfc4193", c.v6_assign_rfc4193}, {"zt", c.v6_assign_zt}};
  json routes = json::array();
  for (const state::Route& r : c.routes) {
    routes.push_back({{"target", r.target}, {"via", r.via.empty() ? json() : json(r.via)}});
  }
  j["routes"] = std::move(routes);
  json pools = json::array();
  for (const state::IpPool& p : c.ip_assignment_pools) {
    pools.push_back({{"ipRangeEnd", p.end}, {"ipRangeStart", p.start}});
  }
  j["ipAssignmentPools"] = std::move(pools);
  j["rules"] = ParseStored(c.rules_json, kDefaultRulesJson);
  j["capabilities"] = ParseStored(c.capabilities_json, "[]");
  j["tags"] = ParseStored(c.tags_json, "[]");
  if (c.dns.has_value()) {
    j["dns"] = {{"domain", c.dns->domain}, {"servers", c.dns->servers}};
  } else {
    j["dns"] = json::array();
  }
  j["remoteTraceTarget"] =
      c.remote_trace_target.empty() ? json() : json(c.remote_trace_target);
  j["remoteTraceLevel"] = c.remote_trace_level;
  j["rulesSource"] = c.rules_source;
  j["ssoEnabled"] = c.sso_enabled;
  return j;
}

std::vector<commands::FieldChange> DiffNetworkConfig(const state::NetworkConfig& old,
                                                     const state::NetworkConfig& updated) {
  const json a = RenderNetworkConfig(old);
  const json b = RenderNetworkConfig(updated);
  std::vector<commands::FieldChange> changes;
  for (auto it = b.begin(); it != b.end(); ++it) {  // sorted keys: same order in both
    const std::string old_text = DumpJson(a.at(it.key()));
    std::string new_text = DumpJson(it.value());
    if (old_text != new_text) {
      changes.push_back({it.key(), old_text, std::move(new_text)});
    }
  }
  return changes;
}

commands::NetworkEdit MakeNetworkEdit(NetworkPatch patch) {
  return [patch = std::move(patch)](const state::NetworkConfig& old)
             -> absl::StatusOr<commands::NetworkEditResult> {
    commands::NetworkEditResult result;
    result.config = ApplyNetworkPatch(old, patch);
    result.changes = DiffNetworkConfig(old, result.config);
    return result;
  };
}

json RenderNetwork(const state::Network& network) {
  json j = RenderNetworkConfig(network.config);
  const std::string id = state::NetworkIdHex(network.nwid);
  j["id"] = id;
  j["nwid"] = id;
  j["objtype"] = "network";
  j["creationTime"] = network.creation_time_ms;
  j["revision"] = network.revision;
  // SSO fields of ZeroTier 1.14.1 that Almanac does not implement, at their values there.
  j["authTokens"] = json::array({nullptr});
  j["authorizationEndpoint"] = "";
  j["clientId"] = "";
  return j;
}

}  // namespace almanac::api
