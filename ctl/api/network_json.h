// Networks as ZeroTier's controller JSON (shared/docs/zerotier-protocol.md §6): render a
// Network, and turn a POST body into a validated partial update.
//
// Rendering gives exactly the field set of ZeroTier 1.14.1's controller
// (shared/vectors/zerotier-1.14.1/controller_network.json), keys in sorted order, with
// the fields Almanac does not implement at their 1.14.1 values (authTokens [null],
// authorizationEndpoint "", clientId "").
//
// Parsing: only the fields present in the body change (partial objects). Read-only and
// unknown fields are ignored, so a UI may POST back what it got. Booleans also accept the
// strings "true"/"false". mtu is clamped to 1280..10000 and multicastLimit to
// 0..2^32-1, as ZeroTier does; every other bad value is refused with InvalidArgument
// naming the field ("routes[1].target: ..."). routes, ipAssignmentPools, rules,
// capabilities, tags and dns are replaced whole. Rules, capabilities and tags are kept as
// the JSON sent (validated by ctl/net/rules.h), so what is POSTed is what is GET.
//
// Thread safety: pure functions.
#ifndef ALMANAC_CTL_API_NETWORK_JSON_H_
#define ALMANAC_CTL_API_NETWORK_JSON_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/commands/field_change.h"
#include "ctl/commands/network_commands.h"
#include "ctl/state/state.h"
#include "nlohmann/json.hpp"

namespace almanac::api {

// A validated partial update: each engaged field was present in the body.
struct NetworkPatch {
  std::optional<std::string> name;
  std::optional<bool> private_network;
  std::optional<bool> enable_broadcast;
  std::optional<uint32_t> multicast_limit;
  std::optional<uint32_t> mtu;
  std::optional<bool> v4_assign_zt;
  std::optional<bool> v6_assign_rfc4193;
  std::optional<bool> v6_assign_zt;
  std::optional<bool> v6_assign_6plane;
  std::optional<std::vector<state::Route>> routes;
  std::optional<std::vector<state::IpPool>> ip_assignment_pools;
  std::optional<std::string> rules_json;
  std::optional<std::string> capabilities_json;
  std::optional<std::string> tags_json;
  std::optional<std::optional<state::Dns>> dns;  // engaged nullopt: clear
  std::optional<std::string> remote_trace_target;
  std::optional<int32_t> remote_trace_level;
  std::optional<std::string> rules_source;
  std::optional<bool> sso_enabled;
};

// Validates a parsed body (a JSON object). InvalidArgument naming the field otherwise.
absl::StatusOr<NetworkPatch> ParseNetworkPatch(const nlohmann::json& body);

// The old config with the patch's fields replaced.
state::NetworkConfig ApplyNetworkPatch(const state::NetworkConfig& old,
                                       const NetworkPatch& patch);

// The config-backed fields as rendered JSON (no ids, times or revision).
nlohmann::json RenderNetworkConfig(const state::NetworkConfig& config);

// The fields whose rendered JSON differs, in field-name order.
std::vector<commands::FieldChange> DiffNetworkConfig(const state::NetworkConfig& old,
                                                     const state::NetworkConfig& updated);

// A NetworkEdit (for ctl/commands) that applies the patch and diffs.
commands::NetworkEdit MakeNetworkEdit(NetworkPatch patch);

// The whole network object as GET /controller/network/<nwid> returns it.
nlohmann::json RenderNetwork(const state::Network& network);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_NETWORK_JSON_H_
