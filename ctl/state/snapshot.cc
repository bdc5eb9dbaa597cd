// The snapshot payload: State <-> FlatBuffers almanac.schema.Snapshot.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/state/convert.h"
#include "ctl/state/limits.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/snapshot_internal.h"
#include "ctl/state/state_access.h"
#include "schemas/state_generated.h"

namespace almanac::state {
namespace {

using internal::StateAccess;

flatbuffers::Offset<schema::MemberState> BuildMember(flatbuffers::FlatBufferBuilder& b,
                                                     const Member& m) {
  auto config = BuildMemberConfig(b, m.config);
  flatbuffers::Offset<flatbuffers::String> identity = 0;
  if (m.has_identity) identity = b.CreateString(IdentityText(m));
  flatbuffers::Offset<flatbuffers::String> credential = 0;
  if (m.last_authorized_credential_type != CredentialType::kNone) {
    // Five possible values: share them (dedup is by content, so still deterministic).
    credential = b.CreateSharedString(CredentialTypeName(m.last_authorized_credential_type));
  }
  return schema::CreateMemberState(b, m.nwid, m.address, config, identity, m.creation_time_ms,
                                   m.revision, m.last_authorized_time_ms,
                                   m.last_deauthorized_time_ms, credential, m.changed_seq);
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("snapshot: ", what));
}

absl::Status LoadMember(const schema::MemberState& flat, State& state) {
  NetworkMap& networks = StateAccess::networks(state);
  auto network = networks.find(flat.nwid());
  if (network == networks.end()) {
    return Corrupt(absl::StrCat("member ", AddressHex(flat.address()), " of missing network ",
                                NetworkIdHex(flat.nwid())));
  }
  Member member;
  member.nwid = flat.nwid();
  member.address = flat.address();
  member.config = MemberConfigFromFlat(flat.config());
  member.creation_time_ms = flat.creation_time_ms();
  member.revision = flat.revision();
  member.changed_seq = flat.changed_seq();
  member.last_authorized_time_ms = flat.last_authorized_time_ms();
  member.last_deauthorized_time_ms = flat.last_deauthorized_time_ms();
  if (flat.identity() != nullptr && flat.identity()->size() > 0) {
    uint64_t identity_address = 0;
    if (!ParseIdentityText(flat.identity()->str(), &identity_address,
                           &member.identity_public) ||
        identity_address != member.address) {
      return Corrupt(absl::StrCat("bad identity for member ", AddressHex(member.address)));
    }
    member.has_identity = true;
  }
  std::string credential =
      flat.last_authorized_credential_type() == nullptr
          ? ""
          : flat.last_authorized_credential_type()->str();
  std::optional<CredentialType> type = ParseCredentialType(credential);
  if (!type.has_value()) {
    return Corrupt(absl::StrCat("unknown credential type \"", credential, "\""));
  }
  member.last_authorized_credential_type = *type;
  network->second.members.emplace(member.address, std::move(member));
  return absl::OkStatus();
}

// Networks strictly ascending by nwid, members strictly by (nwid, address): the order
// SerializeState writes, which also rules out duplicates.
absl::Status LoadObjects(const schema::Snapshot& snapshot, State& state) {
  NetworkMap& networks = StateAccess::networks(state);
  if (snapshot.networks() != nullptr) {
    networks.reserve(snapshot.networks()->size());
    uint64_t previous = 0;
    bool first = true;
    for (const schema::NetworkState* flat : *snapshot.networks()) {
      if (!first && flat->nwid() <= previous) return Corrupt("networks out of order");
      first = false;
      previous = flat->nwid();
      Network& network = networks[flat->nwid()];
      network.nwid = flat->nwid();
      network.config = NetworkConfigFromFlat(flat->config());
      network.creation_time_ms = flat->creation_time_ms();
      network.revision = flat->revision();
      network.changed_seq = flat->changed_seq();
    }
  }
  if (snapshot.members() == nullptr) return absl::OkStatus();
  const auto& members = *snapshot.members();
  for (flatbuffers::uoffset_t i = 0; i < members.size(); ++i) {
    const schema::MemberState* flat = members.Get(i);
    if (i > 0) {
      const schema::MemberState* prev = members.Get(i - 1);
      if (std::make_pair(prev->nwid(), prev->address()) >=
          std::make_pair(flat->nwid(), flat->address())) {
        return Corrupt("members out of order");
      }
    }
    // Members arrive grouped by network: size each map once, before its first insert.
    if (i == 0 || members.Get(i - 1)->nwid() != flat->nwid()) {
      flatbuffers::uoffset_t end = i;
      while (end < members.size() && members.Get(end)->nwid() == flat->nwid()) ++end;
      auto network = networks.find(flat->nwid());
      if (network != networks.end()) network->second.members.reserve(end - i);
    }
    absl::Status status = LoadMember(*flat, state);
    if (!status.ok()) return status;
  }
  StateAccess::member_count(state) = members.size();
  return absl::OkStatus();
}

}  // namespace

namespace internal {

void BuildSnapshot(const State& state, flatbuffers::FlatBufferBuilder& b) {
  std::vector<uint64_t> nwids = state.NetworkIdsSorted();
  std::vector<flatbuffers::Offset<schema::MemberState>> members;
  members.reserve(state.member_count());
  for (uint64_t nwid : nwids) {
    for (const Member* member : state.MembersSorted(nwid)) {
      members.push_back(BuildMember(b, *member));
    }
  }
  auto members_vector = b.CreateVector(members);
  std::vector<flatbuffers::Offset<schema::NetworkState>> networks;
  networks.reserve(nwids.size());
  for (uint64_t nwid : nwids) {
    const Network& network = *state.FindNetwork(nwid);
    auto config = BuildNetworkConfig(b, network.config);
    networks.push_back(schema::CreateNetworkState(b, nwid, config, network.creation_time_ms,
                                                  network.revision, network.changed_seq));
  }
  auto networks_vector = b.CreateVector(networks);
  auto chain_hash = b.CreateVector(state.chain_hash().data(), state.chain_hash().size());
  flatbuffers::Offset<flatbuffers::String> identity = 0;
  if (!state.controller_identity().empty()) {
    identity = b.CreateString(state.controller_identity());
  }
  b.Finish(schema::CreateSnapshot(b, state.last_seq(), chain_hash, state.epoch(), identity,
                                  networks_vector, members_vector),
           schema::SnapshotIdentifier());
}

size_t SnapshotBytesEstimate(const State& state) {
  // A member with an identity, one IP and a credential takes about 250 bytes (the
  // identity text is 141); a network about 1 KB. Over-estimate so the builder (which
  // doubles and copies when full) allocates once in the common case.
  return 4096 + state.network_count() * 2048 + state.member_count() * 320;
}

}  // namespace internal

std::string SerializeState(const State& state) {
  flatbuffers::FlatBufferBuilder b(internal::SnapshotBytesEstimate(state));
  internal::BuildSnapshot(state, b);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

absl::StatusOr<State> DeserializeState(std::string_view payload) {
  if (payload.size() > kSnapshotPayloadBytesMax) {
    return Corrupt(absl::StrCat("payload of ", payload.size(), " bytes exceeds the limit"));
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = kSnapshotVerifierDepthMax;
  options.max_tables = kSnapshotVerifierTablesMax;
  options.check_alignment = true;
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(payload.data()),
                                 payload.size(), options);
  if (!schema::VerifySnapshotBuffer(verifier)) {
    return Corrupt("FlatBuffers verification failed");
  }
  const schema::Snapshot& snapshot = *schema::GetSnapshot(payload.data());
  State state;
  if (snapshot.chain_hash() == nullptr || snapshot.chain_hash()->size() != 32) {
    return Corrupt("chain hash is not 32 bytes");
  }
  std::copy(snapshot.chain_hash()->begin(), snapshot.chain_hash()->end(),
            StateAccess::chain_hash(state).begin());
  StateAccess::last_seq(state) = snapshot.seq();
  StateAccess::epoch(state) = snapshot.epoch();
  if (snapshot.controller_identity() != nullptr) {
    StateAccess::controller_identity(state) = snapshot.controller_identity()->str();
  }
  absl::Status status = LoadObjects(snapshot, state);
  if (!status.ok()) return status;
  return state;
}

}  // namespace almanac::state
