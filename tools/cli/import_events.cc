#include "tools/cli/import_events.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/state/convert.h"
#include "schemas/events_generated.h"
#include "tools/cli/limits.h"

namespace almanac::cli {

size_t EventCount(const ImportedMember& member) {
  return 1 + (member.identity.empty() ? 0 : 1) + (member.authorized ? 1 : 0) +
         member.ips.size();
}

ctl::Command ImportNetworkCommand(const ctl::Actor& actor, const ImportedNetwork& network) {
  ctl::Command command;
  command.actor = actor;
  command.reads = {ctl::ObjectKey::Controller()};
  command.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(network.nwid)};
  const uint64_t nwid = network.nwid;
  auto config = std::make_shared<state::NetworkConfig>(network.config);
  command.decide = [nwid, config](const state::State& s, ctl::CommandContext& ctx) {
    if (s.FindNetwork(nwid) != nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("network ", state::NetworkIdHex(nwid), " already exists"));
    }
    ctx.Emit(schema::Body::NetworkCreated, [&](flatbuffers::FlatBufferBuilder& b) {
      auto flat = state::BuildNetworkConfig(b, *config);
      return schema::CreateNetworkCreated(b, nwid, flat).Union();
    });
    return absl::OkStatus();
  };
  return command;
}

namespace {

void EmitMember(uint64_t nwid, const ImportedMember& m, ctl::CommandContext& ctx) {
  ctx.Emit(schema::Body::MemberCreated, [&](flatbuffers::FlatBufferBuilder& b) {
    auto flat = state::BuildMemberConfig(b, m.config);
    return schema::CreateMemberCreated(b, nwid, m.address, flat).Union();
  });
  if (!m.identity.empty()) {
    ctx.Emit(schema::Body::MemberJoined, [&](flatbuffers::FlatBufferBuilder& b) {
      auto metadata = schema::CreateRequestMetadataDirect(b, m.v_proto, m.v_major, m.v_minor,
                                                          m.v_rev, nullptr, nullptr);
      return schema::CreateMemberJoinedDirect(b, nwid, m.address, m.identity.c_str(), metadata)
          .Union();
    });
  }
  if (m.authorized) {
    ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberAuthorizedDirect(b, nwid, m.address, kImportCredentialType)
          .Union();
    });
  }
  for (const std::string& ip : m.ips) {
    ctx.Emit(schema::Body::IpAssigned, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateIpAssignedDirect(b, nwid, m.address, ip.c_str()).Union();
    });
  }
}

}  // namespace

ctl::Command ImportMembersCommand(const ctl::Actor& actor, uint64_t nwid,
                                  std::vector<ImportedMember> members) {
  size_t events = 0;
  for (const ImportedMember& m : members) events += EventCount(m);
  ALMANAC_CHECK(events <= kImportEventsPerCommandMax);
  ctl::Command command;
  command.actor = actor;
  command.reads = {ctl::ObjectKey::Network(nwid)};
  command.writes = {ctl::ObjectKey::NetworkIps(nwid)};
  for (const ImportedMember& m : members) {
    command.writes.push_back(ctl::ObjectKey::Member(nwid, m.address));
  }
  auto shared = std::make_shared<std::vector<ImportedMember>>(std::move(members));
  command.decide = [nwid, shared](const state::State& s, ctl::CommandContext& ctx) {
    if (s.FindNetwork(nwid) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("network ", state::NetworkIdHex(nwid), " does not exist"));
    }
    for (const ImportedMember& m : *shared) {
      if (s.FindMember(nwid, m.address) != nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            "member ", state::AddressHex(m.address), " already exists in network ",
            state::NetworkIdHex(nwid)));
      }
    }
    for (const ImportedMember& m : *shared) EmitMember(nwid, m, ctx);
    return absl::OkStatus();
  };
  return command;
}

}  // namespace almanac::cli
