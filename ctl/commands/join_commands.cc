#include "ctl/commands/join_commands.h"

#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "ctl/commands/field_change.h"
#include "ctl/commands/limits.h"
#include "ctl/net/assign.h"
#include "ctl/net/capabilities.h"
#include "ctl/net/ip.h"
#include "ctl/state/convert.h"
#include "nlohmann/json.hpp"

namespace almanac::commands {
namespace {

std::string IdentityTextOf(uint64_t address, const std::array<uint8_t, 64>& key) {
  state::Member m;
  m.address = address;
  m.identity_public = key;
  m.has_identity = true;
  return state::IdentityText(m);
}

std::vector<net::Pool> V4Pools(const state::NetworkConfig& config) {
  std::vector<net::Pool> pools;
  for (const state::IpPool& p : config.ip_assignment_pools) {
    auto start = net::IpAddress::Parse(p.start);
    auto end = net::IpAddress::Parse(p.end);
    if (start.ok() && end.ok() && start->is_v4() && end->is_v4()) pools.push_back({*start, *end});
  }
  return pools;
}

bool InSomePool(const std::vector<std::string>& ips, const std::vector<net::Pool>& pools) {
  for (const std::string& text : ips) {
    auto ip = net::IpAddress::Parse(text);
    if (!ip.ok() || !ip->is_v4()) continue;
    for (const net::Pool& p : pools) {
      if (!(*ip < p.start) && !(p.end < *ip)) return true;
    }
  }
  return false;
}

// The pool address for this member, or nullopt when none is due or none is free.
std::optional<net::IpAddress> PoolAddress(const state::Network& network,
                                          const state::Member* member, uint64_t address) {
  const state::NetworkConfig& config = network.config;
  if (!config.v4_assign_zt) return std::nullopt;
  if (member != nullptr && member->config.no_auto_assign_ips) return std::nullopt;
  std::vector<net::Pool> pools = V4Pools(config);
  if (member != nullptr && InSomePool(member->config.ip_assignments, pools)) return std::nullopt;
  std::vector<net::IpPrefix> targets;
  for (const state::Route& r : config.routes) {
    if (auto t = net::IpPrefix::Parse(r.target); t.ok()) targets.push_back(*t);
  }
  absl::flat_hash_set<net::IpAddress> taken;
  for (const auto& [a, m] : network.members) {
    for (const std::string& text : m.config.ip_assignments) {
      if (auto ip = net::IpAddress::Parse(text); ip.ok()) taken.insert(*ip);
    }
  }
  return net::PickIpv4(address, pools, targets,
                       [&taken](const net::IpAddress& ip) { return taken.contains(ip); });
}

// The ids of the network's capabilities marked "default": true, in id order. The API
// validated the JSON; a damaged one grants nothing.
std::vector<uint32_t> DefaultCapabilities(const state::NetworkConfig& config) {
  std::vector<uint32_t> ids;
  if (config.capabilities_json.empty()) return ids;
  auto json = nlohmann::json::parse(config.capabilities_json, nullptr,
                                    /*allow_exceptions=*/false);
  if (!json.is_array()) return ids;
  auto defs = net::ParseCapabilities(json);
  if (!defs.ok()) return ids;
  for (const net::CapabilityDef& def : *defs) {
    if (def.default_grant) ids.push_back(def.id);
  }
  return ids;
}

void EmitDefaultCapabilities(const JoinRequest& request, const std::vector<uint32_t>& ids,
                             ctl::CommandContext& ctx) {
  state::MemberConfig config;  // a member new to the network has the defaults
  config.capabilities = ids;
  std::vector<FieldChange> changes = {
      {"capabilities", "[]", nlohmann::json(ids).dump()}};
  ctx.Emit(schema::Body::MemberChanged, [&](flatbuffers::FlatBufferBuilder& b) {
    auto flat = state::BuildMemberConfig(b, config);
    auto flat_changes = BuildFieldChanges(b, changes);
    return schema::CreateMemberChanged(b, request.nwid, request.address, flat, flat_changes)
        .Union();
  });
}

}  // namespace

bool DecideWithoutWrites(const state::State& state, const JoinRequest& request, int64_t now_ms,
                         JoinOutcome* outcome) {
  auto result = std::make_shared<JoinOutcome>();
  ctl::Command command = JoinCommand(request, result);
  std::vector<std::string> drafts;
  thread_local absl::InsecureBitGen rng;  // the drafts are thrown away
  ctl::CommandContext ctx(now_ms, 0, rng, &command.actor, &drafts);
  if (!command.decide(state, ctx).ok() || !drafts.empty()) return false;
  *outcome = *result;
  return true;
}

ctl::Command JoinCommand(const JoinRequest& request, std::shared_ptr<JoinOutcome> outcome) {
  ctl::Command command;
  command.reads = {ctl::ObjectKey::Network(request.nwid),
                   ctl::ObjectKey::NetworkIps(request.nwid)};
  command.writes = {ctl::ObjectKey::Member(request.nwid, request.address),
                    ctl::ObjectKey::NetworkIps(request.nwid)};
  command.actor.kind = schema::ActorKind::Node;
  command.actor.id = state::AddressHex(request.address);
  command.actor.source = request.physical_address;
  command.decide = [request, outcome](const state::State& state,
                                      ctl::CommandContext& ctx) -> absl::Status {
    *outcome = JoinOutcome();
    const state::Network* network = state.FindNetwork(request.nwid);
    if (network == nullptr) return absl::OkStatus();  // kNotFound
    const state::Member* member = state.FindMember(request.nwid, request.address);
    if (member != nullptr && member->has_identity &&
        member->identity_public != request.identity_public) {
      outcome->verdict = JoinVerdict::kDenied;  // someone else's address
      return absl::OkStatus();
    }
    if (member == nullptr && network->members.size() >= kNetworkMembersMax) {
      return absl::ResourceExhaustedError("network has too many members");
    }
    if (member == nullptr || !member->has_identity) {
      std::string identity = IdentityTextOf(request.address, request.identity_public);
      ctx.Emit(schema::Body::MemberJoined, [&](flatbuffers::FlatBufferBuilder& b) {
        auto meta = schema::CreateRequestMetadataDirect(
            b, request.protocol_version, request.version_major, request.version_minor,
            request.version_revision, request.os_arch.c_str(),
            request.physical_address.c_str());
        return schema::CreateMemberJoinedDirect(b, request.nwid, request.address,
                                                identity.c_str(), meta)
            .Union();
      });
      outcome->joined = true;
      if (member == nullptr) {
        std::vector<uint32_t> defaults = DefaultCapabilities(network->config);
        if (!defaults.empty()) EmitDefaultCapabilities(request, defaults, ctx);
      }
    }
    bool authorized = member != nullptr && member->config.authorized;
    if (!authorized) {
      if (network->config.private_network) {
        outcome->verdict = JoinVerdict::kDenied;
        return absl::OkStatus();
      }
      ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberAuthorizedDirect(b, request.nwid, request.address, "public")
            .Union();
      });
      outcome->authorized_now = true;
    }
    if (std::optional<net::IpAddress> ip = PoolAddress(*network, member, request.address)) {
      std::string text = ip->ToString();
      ctx.Emit(schema::Body::IpAssigned, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateIpAssignedDirect(b, request.nwid, request.address, text.c_str())
            .Union();
      });
      outcome->assigned_ip = text;
    }
    outcome->verdict = JoinVerdict::kAuthorized;
    return absl::OkStatus();
  };
  return command;
}

bool PoolAddressDue(const state::State& state, uint64_t nwid, uint64_t address) {
  const state::Network* network = state.FindNetwork(nwid);
  if (network == nullptr) return false;
  const state::Member* member = state.FindMember(nwid, address);
  if (member == nullptr || !member->config.authorized) return false;
  return PoolAddress(*network, member, address).has_value();
}

ctl::Command AssignPoolAddressCommand(uint64_t nwid, uint64_t address,
                                      std::shared_ptr<JoinOutcome> outcome) {
  ctl::Command command;
  command.reads = {ctl::ObjectKey::Network(nwid), ctl::ObjectKey::NetworkIps(nwid)};
  command.writes = {ctl::ObjectKey::Member(nwid, address), ctl::ObjectKey::NetworkIps(nwid)};
  command.actor.kind = schema::ActorKind::Node;
  command.actor.id = state::AddressHex(address);
  command.decide = [nwid, address, outcome](const state::State& state,
                                            ctl::CommandContext& ctx) -> absl::Status {
    *outcome = JoinOutcome();
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) return absl::OkStatus();  // deleted meanwhile: kNotFound
    const state::Member* member = state.FindMember(nwid, address);
    if (member == nullptr || !member->config.authorized) {
      outcome->verdict = JoinVerdict::kDenied;
      return absl::OkStatus();
    }
    if (std::optional<net::IpAddress> ip = PoolAddress(*network, member, address)) {
      std::string text = ip->ToString();
      ctx.Emit(schema::Body::IpAssigned, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateIpAssignedDirect(b, nwid, address, text.c_str()).Union();
      });
      outcome->assigned_ip = text;
    }
    outcome->verdict = JoinVerdict::kAuthorized;
    return absl::OkStatus();
  };
  return command;
}

}  // namespace almanac::commands
