#include "ctl/netconf/config_encoder.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/net/assign.h"
#include "ctl/net/capabilities.h"
#include "ctl/net/limits.h"
#include "ctl/net/ip.h"
#include "ctl/netconf/credentials.h"
#include "ctl/netconf/limits.h"
#include "ctl/net/rules.h"
#include "nlohmann/json.hpp"
#include "ctl/zt/inet_address.h"
#include "ctl/zt/limits.h"
#include "ctl/zt/wire.h"

namespace almanac::netconf {
namespace {

constexpr uint64_t kFlagBroadcast = 0x2;
constexpr uint64_t kFlagNdpEmulation = 0x4;
constexpr uint64_t kSpecialistActiveBridge = 0x0000020000000000ULL;
constexpr size_t kDnsDomainBytes = 128;
constexpr size_t kDnsServersMax = 4;

zt::InetAddress ToInet(const net::IpAddress& ip, uint16_t port) {
  zt::InetAddress a;
  a.family = ip.is_v4() ? zt::InetAddress::Family::kIpv4 : zt::InetAddress::Family::kIpv6;
  a.bytes = ip.bytes();
  a.port = port;
  return a;
}

struct RouteParts {
  std::vector<net::IpPrefix> targets;
  std::string encoded;
};

absl::StatusOr<RouteParts> EncodeRoutes(const state::NetworkConfig& config) {
  RouteParts parts;
  for (const state::Route& route : config.routes) {
    auto target = net::IpPrefix::Parse(route.target);
    if (!target.ok()) return target.status();
    parts.targets.push_back(*target);
    zt::AppendInetAddress(parts.encoded,
                          ToInet(target->address(), static_cast<uint16_t>(target->bits())));
    if (route.via.empty()) {
      zt::AppendInetAddress(parts.encoded, zt::InetAddress());
    } else {
      auto via = net::IpAddress::Parse(route.via);
      if (!via.ok()) return via.status();
      zt::AppendInetAddress(parts.encoded, ToInet(*via, 0));
    }
    zt::AppendUint(parts.encoded, 2, 0);  // flags
    zt::AppendUint(parts.encoded, 2, 0);  // metric
  }
  return parts;
}

// The member's static IPs with their prefix lengths, in ZeroTier's order.
std::vector<net::IpPrefix> StaticIps(const state::Network& network, const state::Member& member,
                                     const std::vector<net::IpPrefix>& route_targets) {
  std::vector<net::IpPrefix> ips;
  if (network.config.v6_assign_rfc4193) {
    ips.push_back(net::Rfc4193Address(network.nwid, member.address));
  }
  if (network.config.v6_assign_6plane) {
    ips.push_back(net::SixPlaneAddress(network.nwid, member.address));
  }
  for (const std::string& text : member.config.ip_assignments) {
    auto ip = net::IpAddress::Parse(text);
    if (!ip.ok()) continue;  // the API validates; a bad one is left out, not fatal
    // An address outside every route is not sent (the node would have no route to use it).
    std::optional<int> bits = net::AssignedPrefixBits(*ip, route_targets);
    if (!bits) continue;
    auto prefix = net::IpPrefix::Make(*ip, *bits);
    if (prefix.ok()) ips.push_back(*prefix);
  }
  return ips;
}

absl::StatusOr<std::string> EncodeDns(const state::Dns& dns) {
  if (dns.domain.size() >= kDnsDomainBytes) {
    return absl::InvalidArgumentError("DNS domain longer than 127 bytes");
  }
  std::string out = dns.domain;
  out.resize(kDnsDomainBytes, '\0');
  for (size_t i = 0; i < kDnsServersMax; ++i) {
    if (i >= dns.servers.size()) {
      zt::AppendInetAddress(out, zt::InetAddress());
      continue;
    }
    auto ip = net::IpAddress::Parse(dns.servers[i]);
    if (!ip.ok()) return ip.status();
    zt::AppendInetAddress(out, ToInet(*ip, 0));
  }
  return out;
}

// One ACTION_ACCEPT and one ACTION_DROP rule in the wire form (type, length 0).
constexpr char kAcceptAllRule[] = {'\x01', '\x00'};
constexpr char kDropAllRule[] = {'\x00', '\x00'};

// 16 lowercase hex digits, as Dictionary::SetUint64 writes integers.
void AppendHex16(std::string& out, uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  for (int i = 15; i >= 0; --i, value >>= 4) digits[i] = kHex[value & 0xf];
  out.append(digits, sizeof(digits));
}

// One `\nkey=value` entry, as Dictionary::Encode writes it after the first.
void AppendEntry(std::string& out, std::string_view key, std::string_view value) {
  out.push_back('\n');
  out.append(key);
  out.push_back('=');
  zt::AppendDictionaryValue(out, value);
}

void AppendUintEntry(std::string& out, std::string_view key, uint64_t value) {
  out.push_back('\n');
  out.append(key);
  out.push_back('=');
  AppendHex16(out, value);
}

std::string RulesEntry(std::string_view wire) {
  std::string entry;
  AppendEntry(entry, "R", wire);
  return entry;
}

// The `R` entry for this node. The API validated the rules with the same compiler
// (ctl/net/rules.h), so a failure here means a damaged state.
absl::StatusOr<std::string_view> RulesFor(const NetworkConfigParts& parts,
                                          const RequestMetadata& metadata) {
  static const std::string* const kAcceptAll =
      new std::string(RulesEntry(std::string_view(kAcceptAllRule, 2)));
  static const std::string* const kDropAll =
      new std::string(RulesEntry(std::string_view(kDropAllRule, 2)));
  // A rules engine older than revision 1 misreads today's rules: give it ACCEPT only.
  if (metadata.rules_engine_revision < 1) return std::string_view(*kAcceptAll);
  if (!parts.rules_is_array) return absl::DataLossError("stored rules are not a JSON array");
  // More rules than the node can hold: fail closed rather than send a truncated set
  // whose meaning differs from the admin's.
  if (parts.rules_count > metadata.rules_max) return std::string_view(*kDropAll);
  if (!parts.rules.ok()) return parts.rules.status();
  return std::string_view(*parts.rules);
}

}  // namespace

// Authorized active bridges, in address order so the config is deterministic.
std::string ActiveBridgesOf(const state::Network& network) {
  std::vector<uint64_t> bridges;
  for (const auto& [address, m] : network.members) {
    if (m.config.active_bridge && m.config.authorized) bridges.push_back(address);
  }
  std::sort(bridges.begin(), bridges.end());
  std::string out;
  for (uint64_t a : bridges) zt::AppendUint(out, 8, a | kSpecialistActiveBridge);
  return out;
}

namespace {

uint64_t TraceTarget(const std::string& text) {
  uint64_t v = 0;
  if (text.size() != 10) return 0;
  for (char c : text) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return 0;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

absl::StatusOr<nlohmann::json> StoredArray(const std::string& text, const char* what) {
  if (text.empty()) return nlohmann::json::array();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return absl::DataLossError(absl::StrCat("stored ", what, " are not an array"));
  return j;
}

// The member's capabilities (ids that the network defines), lowest id first, signed. A
// capability with more rules than the node can hold is left out rather than truncated (a
// shortened rule list can mean something else); past `capabilities_max` the rest are left
// out (the node would drop them).
absl::StatusOr<std::string> Capabilities(const ConfigInput& in) {
  const state::Member& member = *in.member;
  if (member.config.capabilities.empty()) return std::string();
  auto json = StoredArray(in.network->config.capabilities_json, "capabilities");
  if (!json.ok()) return json.status();
  auto defs = net::ParseCapabilities(*json);
  if (!defs.ok()) return absl::DataLossError(defs.status().message());
  std::vector<uint32_t> ids = member.config.capabilities;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const size_t max = std::min<uint64_t>(in.metadata.capabilities_max, net::kNetworkCapabilitiesMax);
  std::string out;
  size_t count = 0;
  for (uint32_t id : ids) {
    if (count >= max) break;
    auto def = std::find_if(defs->begin(), defs->end(),
                            [id](const net::CapabilityDef& d) { return d.id == id; });
    if (def == defs->end()) continue;  // the network no longer defines it
    if (def->rule_count > in.metadata.capability_rules_max) continue;
    out += BuildCapability(in.network->nwid, in.now_ms, id, def->rules_wire, def->rule_count,
                           member.address, *in.controller);
    ++count;
  }
  return out;
}

// The member's tags by id, plus the network's default value for each tag the member has no
// value for (as ZeroTier's controller does), lowest id first, at most `tags_max`.
absl::StatusOr<std::string> Tags(const ConfigInput& in) {
  const state::Member& member = *in.member;
  auto json = StoredArray(in.network->config.tags_json, "tags");
  if (!json.ok()) return json.status();
  auto defs = net::ParseTags(*json);
  if (!defs.ok()) return absl::DataLossError(defs.status().message());
  std::map<uint32_t, uint32_t> values;
  for (const state::MemberTag& tag : member.config.tags) values[tag.first] = tag.second;
  for (const net::TagDef& def : *defs) {
    if (def.default_value) values.emplace(def.id, *def.default_value);
  }
  const size_t max = std::min<uint64_t>(in.metadata.tags_max, net::kNetworkTagsMax);
  std::string out;
  size_t count = 0;
  for (const auto& [id, value] : values) {
    if (count++ >= max) break;
    out += BuildTag(in.network->nwid, in.now_ms, id, value, member.address, *in.controller);
  }
  return out;
}

}  // namespace

RequestMetadata ParseRequestMetadata(const zt::Dictionary& d) {
  RequestMetadata m;
  auto int_key = [&d](const char* key, int32_t* out) {
    if (auto v = d.GetUint64(key); v.ok() && *v <= 0x7fffffff) *out = static_cast<int32_t>(*v);
  };
  auto u64_key = [&d](const char* key, uint64_t* out) {
    if (auto v = d.GetUint64(key); v.ok()) *out = *v;
  };
  int_key("v", &m.dictionary_version);
  int_key("pv", &m.protocol_version);
  int_key("majv", &m.version_major);
  int_key("minv", &m.version_minor);
  int_key("revv", &m.version_revision);
  u64_key("mr", &m.rules_max);
  u64_key("mc", &m.capabilities_max);
  u64_key("mcr", &m.capability_rules_max);
  u64_key("mt", &m.tags_max);
  u64_key("revr", &m.rules_engine_revision);
  if (auto o = d.Get("o")) m.os_arch = std::string(o->substr(0, 64));
  return m;
}

bool NetworkConfigParts::BuiltFrom(const state::Network& network) const {
  return nwid == network.nwid && network_changed_seq == network.changed_seq;
}

NetworkConfigParts CompileNetworkParts(const state::Network& network) {
  const state::NetworkConfig& config = network.config;
  NetworkConfigParts p;
  p.nwid = network.nwid;
  p.network_changed_seq = network.changed_seq;

  p.head = "v=";
  AppendHex16(p.head, 7);
  AppendUintEntry(p.head, "nwid", network.nwid);
  AppendUintEntry(p.settings, "ctmd", kCredentialTimeMaxDeltaMs);
  AppendUintEntry(p.settings, "r", network.revision);
  AppendEntry(p.network, "tt", state::AddressHex(TraceTarget(config.remote_trace_target)));
  AppendUintEntry(p.network, "tl", static_cast<uint64_t>(config.remote_trace_level));
  uint64_t flags = config.enable_broadcast ? kFlagBroadcast : 0;
  if (config.v6_assign_rfc4193 || config.v6_assign_6plane) flags |= kFlagNdpEmulation;
  AppendUintEntry(p.network, "f", flags);
  AppendUintEntry(p.network, "ml", config.multicast_limit);
  AppendUintEntry(p.network, "t", config.private_network ? 0 : 1);
  AppendEntry(p.network, "n", config.name);
  AppendUintEntry(p.network, "mtu", config.mtu);

  if (auto routes = EncodeRoutes(config); !routes.ok()) {
    p.routes_status = routes.status();
  } else {
    p.route_targets = std::move(routes->targets);
    if (!routes->encoded.empty()) AppendEntry(p.routes, "RT", routes->encoded);
  }

  nlohmann::json rules = config.rules_json.empty()
                             ? nlohmann::json::array({{{"type", "ACTION_ACCEPT"}}})
                             : nlohmann::json::parse(config.rules_json, nullptr,
                                                     /*allow_exceptions=*/false);
  p.rules_is_array = rules.is_array();
  if (p.rules_is_array) {
    p.rules_count = rules.size();
    auto compiled = net::CompileRules(rules);
    if (compiled.ok()) {
      p.rules = RulesEntry(*compiled);
    } else {
      p.rules = compiled.status();
    }
  }

  if (config.dns) {
    if (auto dns = EncodeDns(*config.dns); !dns.ok()) {
      p.dns_status = dns.status();
    } else {
      AppendEntry(p.tail, "DNS", *dns);
    }
  }
  AppendUintEntry(p.tail, "ssov", 0);
  AppendEntry(p.tail, "ssoe", config.sso_enabled ? "1" : "0");
  return p;
}

absl::StatusOr<std::string> EncodeConfigDictionary(const ConfigInput& in) {
  ALMANAC_CHECK(in.network != nullptr && in.member != nullptr && in.controller != nullptr);
  ALMANAC_CHECK(in.controller->has_secret());
  const state::Network& network = *in.network;
  const state::Member& member = *in.member;
  if (!member.has_identity) return absl::FailedPreconditionError("member has no identity");

  NetworkConfigParts compiled;
  const NetworkConfigParts* parts = in.parts;
  if (parts == nullptr) {
    compiled = CompileNetworkParts(network);
    parts = &compiled;
  }
  ALMANAC_CHECK(parts->BuiltFrom(network));
  if (!parts->routes_status.ok()) return parts->routes_status;
  auto rules = RulesFor(*parts, in.metadata);
  if (!rules.ok()) return rules.status();

  std::vector<net::IpPrefix> ips = StaticIps(network, member, parts->route_targets);
  SignedCredentials signed_now;
  const SignedCredentials* credentials = in.reuse;
  if (credentials == nullptr) {
    signed_now.signed_at_ms = in.now_ms;
    signed_now.membership =
        BuildMembershipCertificate(network.nwid, member.address, member.identity_public,
                                   in.now_ms, kCredentialTimeMaxDeltaMs, *in.controller);
    auto capabilities = Capabilities(in);
    if (!capabilities.ok()) return capabilities.status();
    signed_now.capabilities = *std::move(capabilities);
    auto tags = Tags(in);
    if (!tags.ok()) return tags.status();
    signed_now.tags = *std::move(tags);
    if (!ips.empty()) {
      std::vector<net::IpAddress> owned;
      for (const net::IpPrefix& p : ips) owned.push_back(p.address());
      signed_now.ownership = BuildOwnershipCertificate(network.nwid, in.now_ms,
                                                       member.address, owned, *in.controller);
    }
    credentials = &signed_now;
  }
  if (!parts->dns_status.ok()) return parts->dns_status;

  // Keys in ZeroTier's order (see the header): the network's parts as they are, the
  // member's keys between them.
  std::string out;
  out.reserve(parts->head.size() + parts->settings.size() + parts->network.size() +
              parts->routes.size() + rules->size() + parts->tail.size() + 1024 +
              2 * (credentials->membership.size() + credentials->capabilities.size() +
                   credentials->tags.size() + credentials->ownership.size()));
  out.append(parts->head);
  AppendUintEntry(out, "ts", static_cast<uint64_t>(in.now_ms));
  out.append(parts->settings);
  AppendEntry(out, "id", state::AddressHex(member.address));
  out.append(parts->network);
  AppendEntry(out, "C", credentials->membership);
  if (in.specialists != nullptr) {
    if (!in.specialists->empty()) AppendEntry(out, "S", *in.specialists);
  } else if (std::string specialists = ActiveBridgesOf(network); !specialists.empty()) {
    AppendEntry(out, "S", specialists);
  }
  if (!credentials->capabilities.empty()) AppendEntry(out, "CAP", credentials->capabilities);
  if (!credentials->tags.empty()) AppendEntry(out, "TAG", credentials->tags);
  if (!credentials->ownership.empty()) AppendEntry(out, "COO", credentials->ownership);
  out.append(parts->routes);
  if (!ips.empty()) {
    std::string encoded;
    for (const net::IpPrefix& p : ips) {
      zt::AppendInetAddress(encoded, ToInet(p.address(), static_cast<uint16_t>(p.bits())));
    }
    AppendEntry(out, "I", encoded);
  }
  out.append(*rules);
  out.append(parts->tail);
  if (out.size() > zt::kDictionaryBytesMax) {
    return absl::ResourceExhaustedError("config would exceed kDictionaryBytesMax");
  }
  if (in.credentials_out != nullptr) *in.credentials_out = *credentials;
  return out;
}

absl::StatusOr<zt::Dictionary> BuildConfigDictionary(const ConfigInput& in) {
  // One encoder: the dictionary is the encoded bytes read back, so what the tests check
  // here is what the responder signs.
  auto encoded = EncodeConfigDictionary(in);
  if (!encoded.ok()) return encoded.status();
  return zt::Dictionary::Parse(*encoded);
}

}  // namespace almanac::netconf
