// Builds the version-7 network config dictionary a ZeroTier node receives from its
// controller (shared/docs/zerotier-protocol.md §5), from Almanac's state.
//
// Keys written, in the order ZeroTier 1.14.1's controller writes them: v, nwid, ts, ctmd,
// r, id, tt, tl, f, ml, t, n, mtu, C (certificate of membership), S (active bridges, if
// any), CAP (member capabilities, if any), TAG (member tags and network tag defaults, if
// any), COO (ownership of the static IPs, if any), RT (routes,
// if any), I (static IPs: rfc4193, 6plane, then the member's ipAssignments that lie
// inside some route, prefix from that route), R (rules), DNS (if set), ssov, ssoe.
// The node's own limits from its request are respected: at most `mc` capabilities (lowest
// ids first), a capability with more than `mcr` rules is left out, at most `mt` tags.
//
// Pure: time and the controller's key come in as arguments. Thread-safe.
// Signing is most of the cost of an answer: the chunk signature is always new, but the
// caller may keep the credentials (ConfigInput::reuse), the specialists list and the
// network's compiled parts (ConfigInput::parts: routes, rules, DNS and every other key
// that does not depend on the member), so an answer encodes only the member's keys.
#ifndef ALMANAC_CTL_NETCONF_CONFIG_ENCODER_H_
#define ALMANAC_CTL_NETCONF_CONFIG_ENCODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctl/net/ip.h"
#include "ctl/state/state.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/identity.h"

namespace almanac::netconf {

// What a node says about itself in NETWORK_CONFIG_REQUEST metadata (§4). Absent keys
// keep these defaults (ZeroTier's own limits; an old node without `revr` is treated as
// rules engine revision 0).
struct RequestMetadata {
  int32_t dictionary_version = -1;  // v
  int32_t protocol_version = -1;    // pv
  int32_t version_major = -1;       // majv
  int32_t version_minor = -1;       // minv
  int32_t version_revision = -1;    // revv
  uint64_t rules_max = 1024;        // mr
  uint64_t capabilities_max = 128;  // mc
  uint64_t capability_rules_max = 64;  // mcr
  uint64_t tags_max = 128;          // mt
  uint64_t rules_engine_revision = 0;  // revr
  std::string os_arch;              // o (1.14 only)
};

// Reads the metadata keys; malformed values keep their defaults (nodes are not refused
// for odd metadata, as ZeroTier does not refuse them).
RequestMetadata ParseRequestMetadata(const zt::Dictionary& metadata);

// The member's signed credentials in a config: C (membership), CAP, TAG and COO, as the
// dictionary carries them ("" when absent), and when they were signed.
struct SignedCredentials {
  int64_t signed_at_ms = 0;
  std::string membership, capabilities, tags, ownership;
};

// The keys of a config that depend on the network alone, encoded (each piece is
// `\nkey=value` entries in the dictionary's escaping, except `head`, which starts the
// dictionary), and how the rules come out for each kind of node. Built from one network
// state by CompileNetworkParts; valid for another only when BuiltFrom says so.
struct NetworkConfigParts {
  // What it was built from: the network state named by its changed_seq (the seq of the
  // record that made it). Not (creation time, revision): a network deleted and created
  // again within one millisecond has the same pair, and a stale rule or route must never
  // reach a node.
  uint64_t nwid = 0;
  uint64_t network_changed_seq = 0;

  std::string head;      // v, nwid
  std::string settings;  // ctmd, r (between ts and id)
  std::string network;   // tt, tl, f, ml, t, n, mtu (between id and C)
  absl::Status routes_status;  // an unparsable route: every config fails with it
  std::vector<net::IpPrefix> route_targets;
  std::string routes;    // RT, or "" without routes
  // The rules (RulesFor in the .cc): the stored JSON's verdict, its length, and the
  // compiled R entry (or the compiler's error).
  bool rules_is_array = false;
  size_t rules_count = 0;
  absl::StatusOr<std::string> rules = std::string();
  absl::Status dns_status;  // an unparsable DNS server or a too long domain
  std::string tail;      // DNS (if set), ssov, ssoe

  // True when these parts were built from exactly this network state.
  bool BuiltFrom(const state::Network& network) const;
};

// The parts for `network`. Never fails: what cannot be encoded is kept as a Status inside
// and returned by the configs that need it. O(size of the network's config), not of its
// members.
NetworkConfigParts CompileNetworkParts(const state::Network& network);

struct ConfigInput {
  const state::Network* network = nullptr;
  const state::Member* member = nullptr;  // REQUIRES: has_identity
  const zt::Identity* controller = nullptr;  // REQUIRES: has_secret()
  int64_t now_ms = 0;
  RequestMetadata metadata;
  // The network's S value (ActiveBridgesOf), when the caller keeps it per network state;
  // null: computed here, which costs O(members of the network).
  const std::string* specialists = nullptr;
  // Credentials signed for this member earlier, put in the dictionary as they are instead
  // of signing new ones. The caller vouches that they were built from the same network and
  // member state and the same mc/mcr/mt, and that they are recent enough (their
  // timestamps are signed_at_ms, not now_ms). Null: sign new ones.
  const SignedCredentials* reuse = nullptr;
  // When not null, receives the credentials the dictionary holds (for the caller to reuse).
  SignedCredentials* credentials_out = nullptr;
  // The network's compiled parts, kept by the caller per network state. REQUIRES:
  // parts->BuiltFrom(*network). Null: compiled here (parses and compiles the rules).
  const NetworkConfigParts* parts = nullptr;
};

// S: the network's authorized active bridges as specialists, in address order.
// O(members of the network).
std::string ActiveBridgesOf(const state::Network& network);

// The config dictionary for this member. InvalidArgument when the network's stored
// config cannot be encoded (an unparsable route or DNS server, rules the compiler refuses);
// DataLoss when the stored capabilities or tags JSON no longer parses;
// Unimplemented for rule kinds not supported yet; FailedPrecondition when the member has
// no identity on record.
absl::StatusOr<zt::Dictionary> BuildConfigDictionary(const ConfigInput& input);

// The same config, encoded (what BuildConfigDictionary(input)->Encode() returns, byte for
// byte), without building a Dictionary: what the responder signs. The same errors, and
// ResourceExhausted past kDictionaryBytesMax.
absl::StatusOr<std::string> EncodeConfigDictionary(const ConfigInput& input);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_CONFIG_ENCODER_H_
