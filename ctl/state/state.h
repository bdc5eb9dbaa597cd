// The controller's domain model: networks, members and controller-level facts, as the
// projector (ctl/state/projector.h) folds them out of the journal.
//
// The structs mirror schemas/config.fbs (same fields, same defaults) so that commands,
// the admin API (which renders JSON from them, shared/docs/zerotier-protocol.md §6) and
// the netconf responder all read plain C++ values. Conversions to and from the
// FlatBuffers tables live in ctl/state/convert.h; snapshots in ctl/state/snapshot.h.
//
// Thread safety: none inside. State is written only by the sequencer (through the
// projector) and by snapshot loading at start; the sequencer guards readers with its own
// lock. A `const Network*` or `const Member*` returned here stays valid, under that lock,
// until the next Apply that deletes the object (maps are node-based, so adding other
// objects never moves it); its contents may change with any Apply.
//
// Not here on purpose: telemetry (last seen, physical address, node version vMajor/...)
// is not an event (shared/docs/design.md, "Events") and lives beside the state.
#ifndef ALMANAC_CTL_STATE_STATE_H_
#define ALMANAC_CTL_STATE_STATE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"

namespace almanac::state {

// ---------------------------------------------------------------------------------
// Configuration, as admins set it (mirrors schemas/config.fbs; defaults identical).
// Addresses are canonical text chosen by commands; the projector never parses them.
// An empty string means "absent / JSON null" wherever the schema says so.

struct Route {
  std::string target;  // "10.147.20.0/24"
  std::string via;     // "" for none (JSON null)
  bool operator==(const Route& o) const { return target == o.target && via == o.via; }
};

struct IpPool {
  std::string start;  // "10.147.20.1" (ipRangeStart)
  std::string end;    // "10.147.20.254" (ipRangeEnd)
  bool operator==(const IpPool& o) const { return start == o.start && end == o.end; }
};

struct Dns {
  std::string domain;
  std::vector<std::string> servers;
  bool operator==(const Dns& o) const { return domain == o.domain && servers == o.servers; }
};

struct NetworkConfig {
  std::string name;
  bool private_network = true;  // JSON "private"
  bool enable_broadcast = true;
  uint32_t multicast_limit = 32;
  uint32_t mtu = 2800;
  bool v4_assign_zt = false;
  bool v6_assign_rfc4193 = false;
  bool v6_assign_zt = false;
  bool v6_assign_6plane = false;
  std::vector<Route> routes;
  std::vector<IpPool> ip_assignment_pools;
  std::string rules_json;         // JSON array; "" means [{"type":"ACTION_ACCEPT"}]
  std::string capabilities_json;  // JSON array; "" means []
  std::string tags_json;          // JSON array; "" means []
  std::optional<Dns> dns;         // nullopt: unset (the API renders [])
  std::string remote_trace_target;  // "" for null
  int32_t remote_trace_level = 0;
  std::string rules_source;
  bool sso_enabled = false;

  bool operator==(const NetworkConfig& o) const;
  bool operator!=(const NetworkConfig& o) const { return !(*this == o); }
};

// A member's tag: (tag id, value), rendered by the API as [id, value].
using MemberTag = std::pair<uint32_t, uint32_t>;

struct MemberConfig {
  bool authorized = false;
  bool active_bridge = false;
  bool no_auto_assign_ips = false;
  bool sso_exempt = false;
  int32_t remote_trace_level = 0;
  std::vector<std::string> ip_assignments;  // canonical text, no prefix, in order added
  std::vector<MemberTag> tags;
  std::vector<uint32_t> capabilities;
  std::string name;
  std::string remote_trace_target;  // "" for null

  bool operator==(const MemberConfig& o) const;
  bool operator!=(const MemberConfig& o) const { return !(*this == o); }
};

// ZeroTier's lastAuthorizedCredentialType. Kept as an enum to keep Member small; the
// event carries the text, and the projector refuses any text not listed here.
enum class CredentialType : uint8_t {
  kNone = 0,    // never authorized: API renders null
  kApi = 1,     // "api": an admin authorized it
  kPublic = 2,  // "public": authorized because the network is public
  kImport = 3,  // "import": carried over by almanac import-zerotier
  kSso = 4,     // "sso"
};

// "api", "public", "import", "sso"; "" for kNone.
const char* CredentialTypeName(CredentialType type);
// The inverse of CredentialTypeName ("" gives kNone); nullopt for any other text.
std::optional<CredentialType> ParseCredentialType(const std::string& text);

// ---------------------------------------------------------------------------------
// Objects.

inline constexpr size_t kIdentityPublicBytes = 64;  // X25519 public, then Ed25519 public

struct Member {
  uint64_t nwid = 0;
  uint64_t address = 0;  // 40-bit ZeroTier address
  MemberConfig config;
  int64_t creation_time_ms = 0;
  uint64_t revision = 0;  // +1 on every event about this member
  // Seq of the last record that created or changed this member. Unlike (creation time,
  // revision) it names one state of the member: a member deleted and created again in
  // the same millisecond gets a new one. Caches of what is derived from a member (the
  // netconf responder's signed credentials) key on it.
  uint64_t changed_seq = 0;
  int64_t last_authorized_time_ms = 0;    // 0 until first authorized
  int64_t last_deauthorized_time_ms = 0;  // 0 until first deauthorized
  // The public key the node presented on its first request (MemberJoined). Only the
  // key is kept (the address is above); IdentityText() rebuilds the text form.
  std::array<uint8_t, kIdentityPublicBytes> identity_public{};
  bool has_identity = false;
  CredentialType last_authorized_credential_type = CredentialType::kNone;

  bool operator==(const Member& o) const;
  bool operator!=(const Member& o) const { return !(*this == o); }
};

// "73d8c8d12f:0:<128 lowercase hex>", or "" when the member has no identity yet.
std::string IdentityText(const Member& member);

// Parses the public text form "address:0:public128hex" (lowercase or uppercase hex; a
// trailing ":secret" is refused, secrets never enter the state). On success stores the
// address and key in *address and *key and returns true; false on any malformed text.
bool ParseIdentityText(const std::string& text, uint64_t* address,
                       std::array<uint8_t, kIdentityPublicBytes>* key);

// 10 lowercase hex digits, as ZeroTier writes addresses.
std::string AddressHex(uint64_t address);
// 16 lowercase hex digits, as ZeroTier writes network ids.
std::string NetworkIdHex(uint64_t nwid);

using MemberMap = absl::node_hash_map<uint64_t, Member>;  // by address

struct Network {
  uint64_t nwid = 0;
  NetworkConfig config;
  int64_t creation_time_ms = 0;
  uint64_t revision = 0;  // +1 on NetworkCreated and every NetworkChanged
  // Seq of the last NetworkCreated or NetworkChanged record: names one state of the
  // network's config, as Member::changed_seq does for a member.
  uint64_t changed_seq = 0;
  MemberMap members;      // unordered; see State::MembersSorted for a sorted view

  bool operator==(const Network& o) const;  // compares members too
  bool operator!=(const Network& o) const { return !(*this == o); }
};

using NetworkMap = absl::node_hash_map<uint64_t, Network>;  // by nwid

namespace internal {
class StateAccess;  // the projector's and snapshot loader's write access
}  // namespace internal

// The whole projected state after applying records 1..last_seq().
class State {
 public:
  State() = default;
  State(State&&) = default;
  State& operator=(State&&) = default;
  // Copyable for tests and for replay tools; a copy of a large state is expensive.
  State(const State&) = default;
  State& operator=(const State&) = default;

  // O(1). nullptr when absent.
  const Network* FindNetwork(uint64_t nwid) const;
  const Member* FindMember(uint64_t nwid, uint64_t address) const;

  // All networks, unordered. Iterate with `for (const auto& [nwid, network] : ...)`.
  const NetworkMap& networks() const { return networks_; }
  // Network ids in ascending order (computed on demand: O(n log n)).
  std::vector<uint64_t> NetworkIdsSorted() const;
  // The network's members in ascending address order (computed on demand); empty when
  // the network does not exist. Pointers follow the validity rule at the top.
  std::vector<const Member*> MembersSorted(uint64_t nwid) const;

  size_t network_count() const { return networks_.size(); }
  size_t member_count() const { return member_count_; }  // over all networks

  // Controller-level facts.
  uint64_t last_seq() const { return last_seq_; }  // 0 for an empty state
  // Chain hash of record last_seq() (all zeros for an empty state).
  const std::array<uint8_t, 32>& chain_hash() const { return chain_hash_; }
  uint64_t epoch() const { return epoch_; }
  // Public identity text from ControllerInitialized; "" before it.
  const std::string& controller_identity() const { return controller_identity_; }

  // Deep equality of everything above (tests, determinism checks).
  bool operator==(const State& o) const;
  bool operator!=(const State& o) const { return !(*this == o); }

 private:
  friend class internal::StateAccess;

  NetworkMap networks_;
  size_t member_count_ = 0;
  uint64_t last_seq_ = 0;
  std::array<uint8_t, 32> chain_hash_{};
  uint64_t epoch_ = 0;
  std::string controller_identity_;
};

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_STATE_H_
