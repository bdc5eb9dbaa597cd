#include "ctl/state/convert.h"

#include <string>
#include <vector>

namespace almanac::state {
namespace {

std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

// Absent for "", so absent and empty serialize identically (convert.h, "Rules").
flatbuffers::Offset<flatbuffers::String> OptStr(flatbuffers::FlatBufferBuilder& b,
                                                const std::string& s) {
  return s.empty() ? 0 : b.CreateString(s);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> OptStrings(
    flatbuffers::FlatBufferBuilder& b, const std::vector<std::string>& v) {
  return v.empty() ? 0 : b.CreateVectorOfStrings(v);
}

std::vector<std::string> Strings(
    const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const flatbuffers::String* s : *v) out.push_back(Str(s));
  return out;
}

}  // namespace

NetworkConfig NetworkConfigFromFlat(const schema::NetworkConfig* flat) {
  NetworkConfig c;
  if (flat == nullptr) return c;
  c.name = Str(flat->name());
  c.private_network = flat->private_();
  c.enable_broadcast = flat->enable_broadcast();
  c.multicast_limit = flat->multicast_limit();
  c.mtu = flat->mtu();
  c.v4_assign_zt = flat->v4_assign_zt();
  c.v6_assign_rfc4193 = flat->v6_assign_rfc4193();
  c.v6_assign_zt = flat->v6_assign_zt();
  c.v6_assign_6plane = flat->v6_assign_6plane();
  if (flat->routes() != nullptr) {
    c.routes.reserve(flat->routes()->size());
    for (const schema::Route* r : *flat->routes()) {
      c.routes.push_back(Route{Str(r->target()), Str(r->via())});
    }
  }
  if (flat->ip_assignment_pools() != nullptr) {
    c.ip_assignment_pools.reserve(flat->ip_assignment_pools()->size());
    for (const schema::IpPool* p : *flat->ip_assignment_pools()) {
      c.ip_assignment_pools.push_back(IpPool{Str(p->start()), Str(p->end())});
    }
  }
  c.rules_json = Str(flat->rules_json());
  c.capabilities_json = Str(flat->capabilities_json());
  c.tags_json = Str(flat->tags_json());
  if (flat->dns() != nullptr) {
    c.dns = Dns{Str(flat->dns()->domain()), Strings(flat->dns()->servers())};
  }
  c.remote_trace_target = Str(flat->remote_trace_target());
  c.remote_trace_level = flat->remote_trace_level();
  c.rules_source = Str(flat->rules_source());
  c.sso_enabled = flat->sso_enabled();
  return c;
}

MemberConfig MemberConfigFromFlat(const schema::MemberConfig* flat) {
  MemberConfig c;
  if (flat == nullptr) return c;
  c.authorized = flat->authorized();
  c.active_bridge = flat->active_bridge();
  c.no_auto_assign_ips = flat->no_auto_assign_ips();
  c.ip_assignments = Strings(flat->ip_assignments());
  if (flat->tags() != nullptr) {
    c.tags.reserve(flat->tags()->size());
    for (const schema::MemberTag* t : *flat->tags()) c.tags.emplace_back(t->id(), t->value());
  }
  if (flat->capabilities() != nullptr) {
    c.capabilities.assign(flat->capabilities()->begin(), flat->capabilities()->end());
  }
  c.name = Str(flat->name());
  c.sso_exempt = flat->sso_exempt();
  c.remote_trace_target = Str(flat->remote_trace_target());
  c.remote_trace_level = flat->remote_trace_level();
  return c;
}

flatbuffers::Offset<schema::NetworkConfig> BuildNetworkConfig(
    flatbuffers::FlatBufferBuilder& b, const NetworkConfig& c) {
  // Children first: FlatBuffers tables cannot be nested while one is being built.
  auto name = OptStr(b, c.name);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::Route>>> routes = 0;
  if (!c.routes.empty()) {
    std::vector<flatbuffers::Offset<schema::Route>> offsets;
    offsets.reserve(c.routes.size());
    for (const Route& r : c.routes) {
      auto target = OptStr(b, r.target);
      auto via = OptStr(b, r.via);
      offsets.push_back(schema::CreateRoute(b, target, via));
    }
    routes = b.CreateVector(offsets);
  }
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::IpPool>>> pools = 0;
  if (!c.ip_assignment_pools.empty()) {
    std::vector<flatbuffers::Offset<schema::IpPool>> offsets;
    offsets.reserve(c.ip_assignment_pools.size());
    for (const IpPool& p : c.ip_assignment_pools) {
      auto start = OptStr(b, p.start);
      auto end = OptStr(b, p.end);
      offsets.push_back(schema::CreateIpPool(b, start, end));
    }
    pools = b.CreateVector(offsets);
  }
  auto rules = OptStr(b, c.rules_json);
  auto capabilities = OptStr(b, c.capabilities_json);
  auto tags = OptStr(b, c.tags_json);
  flatbuffers::Offset<schema::Dns> dns = 0;
  if (c.dns.has_value()) {
    auto domain = OptStr(b, c.dns->domain);
    auto servers = OptStrings(b, c.dns->servers);
    dns = schema::CreateDns(b, domain, servers);
  }
  auto trace_target = OptStr(b, c.remote_trace_target);
  auto rules_source = OptStr(b, c.rules_source);
  return schema::CreateNetworkConfig(
      b, name, c.private_network, c.enable_broadcast, c.multicast_limit, c.mtu,
      c.v4_assign_zt, c.v6_assign_rfc4193, c.v6_assign_zt, c.v6_assign_6plane, routes, pools,
      rules, capabilities, tags, dns, trace_target, c.remote_trace_level, rules_source,
      c.sso_enabled);
}

flatbuffers::Offset<schema::MemberConfig> BuildMemberConfig(flatbuffers::FlatBufferBuilder& b,
                                                            const MemberConfig& c) {
  auto ips = OptStrings(b, c.ip_assignments);
  flatbuffers::Offset<flatbuffers::Vector<const schema::MemberTag*>> tags = 0;
  if (!c.tags.empty()) {
    std::vector<schema::MemberTag> structs;
    structs.reserve(c.tags.size());
    for (const MemberTag& t : c.tags) structs.emplace_back(t.first, t.second);
    tags = b.CreateVectorOfStructs(structs);
  }
  flatbuffers::Offset<flatbuffers::Vector<uint32_t>> capabilities = 0;
  if (!c.capabilities.empty()) capabilities = b.CreateVector(c.capabilities);
  auto name = OptStr(b, c.name);
  auto trace_target = OptStr(b, c.remote_trace_target);
  return schema::CreateMemberConfig(b, c.authorized, c.active_bridge, c.no_auto_assign_ips,
                                    ips, tags, capabilities, name, c.sso_exempt,
                                    trace_target, c.remote_trace_level);
}

}  // namespace almanac::state
