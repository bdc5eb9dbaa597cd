// Every handler checks all its preconditions before its first write, so an error leaves
// the state exactly as it was (projector.h).
#include "ctl/state/projector.h"

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ctl/state/convert.h"
#include "ctl/state/state_access.h"

namespace almanac::state {
namespace {

using internal::StateAccess;

// What every handler needs to know about the record being applied.
struct Context {
  State& state;
  uint64_t seq;
  int64_t time_ms;
  const char* body_name;
};

absl::Status Failed(const Context& c, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat("seq ", c.seq, " (", c.body_name, "): ", what));
}

absl::Status Invalid(const Context& c, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("seq ", c.seq, " (", c.body_name, "): ", what));
}

absl::StatusOr<Network*> MutableNetwork(const Context& c, uint64_t nwid) {
  NetworkMap& networks = StateAccess::networks(c.state);
  auto it = networks.find(nwid);
  if (it == networks.end()) {
    return Failed(c, absl::StrCat("network ", NetworkIdHex(nwid), " does not exist"));
  }
  return &it->second;
}

absl::StatusOr<Member*> MutableMember(const Context& c, uint64_t nwid, uint64_t address) {
  absl::StatusOr<Network*> network = MutableNetwork(c, nwid);
  if (!network.ok()) return network.status();
  auto it = (*network)->members.find(address);
  if (it == (*network)->members.end()) {
    return Failed(c, absl::StrCat("member ", AddressHex(address), " of network ",
                                  NetworkIdHex(nwid), " does not exist"));
  }
  return &it->second;
}

absl::Status ApplyControllerInitialized(const Context& c,
                                        const schema::ControllerInitialized& body) {
  if (!StateAccess::controller_identity(c.state).empty()) {
    return Failed(c, "the controller is already initialized");
  }
  if (body.identity() == nullptr || body.identity()->size() == 0) {
    return Invalid(c, "no identity");
  }
  StateAccess::controller_identity(c.state) = body.identity()->str();
  return absl::OkStatus();
}

absl::Status ApplyEpochStarted(const Context& c, const schema::EpochStarted& body) {
  if (body.epoch() < c.state.epoch()) {
    return Failed(c, absl::StrCat("epoch ", body.epoch(), " is below the current epoch ",
                                  c.state.epoch()));
  }
  StateAccess::epoch(c.state) = body.epoch();
  return absl::OkStatus();
}

// Every event about a network or member counts in its revision and its changed_seq.
template <typename NetworkOrMember>
void Changed(const Context& c, NetworkOrMember& object) {
  ++object.revision;
  object.changed_seq = c.seq;
}

absl::Status ApplyNetworkCreated(const Context& c, const schema::NetworkCreated& body) {
  NetworkMap& networks = StateAccess::networks(c.state);
  if (networks.contains(body.nwid())) {
    return Failed(c, absl::StrCat("network ", NetworkIdHex(body.nwid()), " already exists"));
  }
  Network& network = networks[body.nwid()];
  network.nwid = body.nwid();
  network.config = NetworkConfigFromFlat(body.config());
  network.creation_time_ms = c.time_ms;
  Changed(c, network);  // revision 1
  return absl::OkStatus();
}

absl::Status ApplyNetworkChanged(const Context& c, const schema::NetworkChanged& body) {
  absl::StatusOr<Network*> network = MutableNetwork(c, body.nwid());
  if (!network.ok()) return network.status();
  (*network)->config = NetworkConfigFromFlat(body.config());
  Changed(c, **network);
  return absl::OkStatus();
}

absl::Status ApplyNetworkDeleted(const Context& c, const schema::NetworkDeleted& body) {
  absl::StatusOr<Network*> network = MutableNetwork(c, body.nwid());
  if (!network.ok()) return network.status();
  StateAccess::member_count(c.state) -= (*network)->members.size();
  StateAccess::networks(c.state).erase(body.nwid());
  return absl::OkStatus();
}

// Creates a member with default config; the caller has checked it is absent.
Member& NewMember(const Context& c, Network& network, uint64_t address) {
  Member& member = network.members[address];
  member.nwid = network.nwid;
  member.address = address;
  member.creation_time_ms = c.time_ms;
  ++StateAccess::member_count(c.state);
  return member;
}

absl::Status ApplyMemberJoined(const Context& c, const schema::MemberJoined& body) {
  absl::StatusOr<Network*> network = MutableNetwork(c, body.nwid());
  if (!network.ok()) return network.status();
  uint64_t identity_address = 0;
  std::array<uint8_t, kIdentityPublicBytes> key;
  if (body.identity() == nullptr ||
      !ParseIdentityText(body.identity()->str(), &identity_address, &key)) {
    return Invalid(c, "identity is not a public identity text");
  }
  if (identity_address != body.address()) {
    return Invalid(c, absl::StrCat("identity address ", AddressHex(identity_address),
                                   " differs from member ", AddressHex(body.address())));
  }
  auto it = (*network)->members.find(body.address());
  Member& member = it != (*network)->members.end() ? it->second
                                                   : NewMember(c, **network, body.address());
  member.identity_public = key;
  member.has_identity = true;
  Changed(c, member);
  return absl::OkStatus();
}

absl::Status ApplyMemberCreated(const Context& c, const schema::MemberCreated& body) {
  absl::StatusOr<Network*> network = MutableNetwork(c, body.nwid());
  if (!network.ok()) return network.status();
  if ((*network)->members.contains(body.address())) {
    return Failed(c, absl::StrCat("member ", AddressHex(body.address()), " of network ",
                                  NetworkIdHex(body.nwid()), " already exists"));
  }
  Member& member = NewMember(c, **network, body.address());
  member.config = MemberConfigFromFlat(body.config());
  Changed(c, member);  // revision 1
  return absl::OkStatus();
}

absl::Status ApplyMemberAuthorized(const Context& c, const schema::MemberAuthorized& body) {
  absl::StatusOr<Member*> member = MutableMember(c, body.nwid(), body.address());
  if (!member.ok()) return member.status();
  std::string type_text = body.credential_type() == nullptr ? "" : body.credential_type()->str();
  std::optional<CredentialType> type = ParseCredentialType(type_text);
  if (!type.has_value() || *type == CredentialType::kNone) {
    return Invalid(c, absl::StrCat("unknown credential type \"", type_text, "\""));
  }
  (*member)->config.authorized = true;
  (*member)->last_authorized_time_ms = c.time_ms;
  (*member)->last_authorized_credential_type = *type;
  Changed(c, **member);
  return absl::OkStatus();
}

absl::Status ApplyMemberDeauthorized(const Context& c,
                                     const schema::MemberDeauthorized& body) {
  absl::StatusOr<Member*> member = MutableMember(c, body.nwid(), body.address());
  if (!member.ok()) return member.status();
  (*member)->config.authorized = false;
  (*member)->last_deauthorized_time_ms = c.time_ms;
  Changed(c, **member);
  return absl::OkStatus();
}

absl::Status ApplyMemberChanged(const Context& c, const schema::MemberChanged& body) {
  absl::StatusOr<Member*> member = MutableMember(c, body.nwid(), body.address());
  if (!member.ok()) return member.status();
  (*member)->config = MemberConfigFromFlat(body.config());
  Changed(c, **member);
  return absl::OkStatus();
}

absl::Status ApplyMemberDeleted(const Context& c, const schema::MemberDeleted& body) {
  absl::StatusOr<Member*> member = MutableMember(c, body.nwid(), body.address());
  if (!member.ok()) return member.status();
  StateAccess::networks(c.state)[body.nwid()].members.erase(body.address());
  --StateAccess::member_count(c.state);
  return absl::OkStatus();
}

template <typename IpBody>
absl::Status ApplyIp(const Context& c, const IpBody& body, bool assign) {
  absl::StatusOr<Member*> member = MutableMember(c, body.nwid(), body.address());
  if (!member.ok()) return member.status();
  if (body.ip() == nullptr || body.ip()->size() == 0) return Invalid(c, "no ip");
  std::string ip = body.ip()->str();
  std::vector<std::string>& ips = (*member)->config.ip_assignments;
  auto it = std::find(ips.begin(), ips.end(), ip);
  if (assign && it == ips.end()) ips.push_back(std::move(ip));
  if (!assign && it != ips.end()) ips.erase(it);
  Changed(c, **member);
  return absl::OkStatus();
}

absl::Status ApplyBody(const Context& c, const schema::Record& r) {
  using B = schema::Body;
  // body_as_X() is null both for another type and for a missing table.
  auto missing = [&c] { return Invalid(c, "body table missing"); };
  switch (r.body_type()) {
#define ALMANAC_APPLY_CASE(Name, ...)                        \
  case B::Name: {                                            \
    const schema::Name* body = r.body_as_##Name();           \
    if (body == nullptr) return missing();                   \
    return Apply##Name(c, *body __VA_ARGS__);                \
  }
    ALMANAC_APPLY_CASE(ControllerInitialized)
    ALMANAC_APPLY_CASE(EpochStarted)
    ALMANAC_APPLY_CASE(NetworkCreated)
    ALMANAC_APPLY_CASE(NetworkChanged)
    ALMANAC_APPLY_CASE(NetworkDeleted)
    ALMANAC_APPLY_CASE(MemberJoined)
    ALMANAC_APPLY_CASE(MemberCreated)
    ALMANAC_APPLY_CASE(MemberAuthorized)
    ALMANAC_APPLY_CASE(MemberDeauthorized)
    ALMANAC_APPLY_CASE(MemberChanged)
    ALMANAC_APPLY_CASE(MemberDeleted)
#undef ALMANAC_APPLY_CASE
    case B::Seal:
      // A seal proves history to auditors; it changes no object (projector.h).
      if (r.body_as_Seal() == nullptr) return missing();
      return absl::OkStatus();
    case B::IpAssigned:
      if (r.body_as_IpAssigned() == nullptr) return missing();
      return ApplyIp(c, *r.body_as_IpAssigned(), /*assign=*/true);
    case B::IpReleased:
      if (r.body_as_IpReleased() == nullptr) return missing();
      return ApplyIp(c, *r.body_as_IpReleased(), /*assign=*/false);
    case B::NONE:
      return Invalid(c, "record has no body");
  }
  return Invalid(c, absl::StrCat("unknown body type ", static_cast<int>(r.body_type())));
}

}  // namespace

absl::Status Apply(State& state, const schema::Record& record,
                   const std::array<uint8_t, 32>& chain_hash) {
  if (record.seq() != state.last_seq() + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("record seq ", record.seq(), " does not follow the state's last seq ",
                     state.last_seq(), " (expected ", state.last_seq() + 1, ")"));
  }
  if (record.epoch() < state.epoch()) {
    return absl::FailedPreconditionError(
        absl::StrCat("seq ", record.seq(), ": record epoch ", record.epoch(),
                     " is below the state's epoch ", state.epoch()));
  }
  const char* name = schema::EnumNameBody(record.body_type());
  Context context{state, record.seq(), record.time_ms(), name == nullptr ? "?" : name};
  absl::Status status = ApplyBody(context, record);
  if (!status.ok()) return status;
  StateAccess::last_seq(state) = record.seq();
  StateAccess::chain_hash(state) = chain_hash;
  StateAccess::epoch(state) = std::max(state.epoch(), record.epoch());
  return absl::OkStatus();
}

}  // namespace almanac::state
