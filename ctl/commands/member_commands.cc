#include "ctl/commands/member_commands.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/commands/limits.h"
#include "ctl/state/convert.h"

namespace almanac::commands {
namespace {

absl::Status NetworkNotFound(uint64_t nwid) {
  return absl::NotFoundError(
      absl::StrCat("network ", state::NetworkIdHex(nwid), " does not exist"));
}

void EmitAuthorization(uint64_t nwid, uint64_t address, bool authorized,
                       ctl::CommandContext& ctx) {
  if (authorized) {
    ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberAuthorizedDirect(b, nwid, address, kApiCredentialType)
          .Union();
    });
  } else {
    ctx.Emit(schema::Body::MemberDeauthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberDeauthorized(b, nwid, address).Union();
    });
  }
}

absl::Status Create(const state::Network& network, uint64_t address, const MemberEdit& edit,
                    ctl::CommandContext& ctx, MemberOutcome& outcome) {
  if (network.members.size() >= kNetworkMembersMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "network ", state::NetworkIdHex(network.nwid), " already has ", kNetworkMembersMax,
        " members (the limit)"));
  }
  absl::StatusOr<MemberEditResult> edited = edit(state::MemberConfig{});
  if (!edited.ok()) return edited.status();
  state::MemberConfig config = edited->config;
  const bool authorize = config.authorized;
  config.authorized = false;  // MemberAuthorized below sets it with its time
  const uint64_t nwid = network.nwid;
  ctx.Emit(schema::Body::MemberCreated, [&](flatbuffers::FlatBufferBuilder& b) {
    auto flat = state::BuildMemberConfig(b, config);
    return schema::CreateMemberCreated(b, nwid, address, flat).Union();
  });
  if (authorize) EmitAuthorization(nwid, address, true, ctx);
  outcome.created = true;
  outcome.events = authorize ? 2 : 1;
  return absl::OkStatus();
}

absl::Status Update(const state::Member& member, const MemberEdit& edit,
                    ctl::CommandContext& ctx, MemberOutcome& outcome) {
  absl::StatusOr<MemberEditResult> edited = edit(member.config);
  if (!edited.ok()) return edited.status();
  const state::MemberConfig& config = edited->config;
  outcome.created = false;
  outcome.events = 0;
  if (config == member.config) return absl::OkStatus();
  const bool auth_flips = config.authorized != member.config.authorized;
  state::MemberConfig others = config;
  others.authorized = member.config.authorized;
  const bool others_change = others != member.config;
  if (auth_flips) {
    EmitAuthorization(member.nwid, member.address, config.authorized, ctx);
    ++outcome.events;
  }
  if (others_change) {
    std::vector<FieldChange> changes;
    for (const FieldChange& c : edited->changes) {
      if (c.field != "authorized") changes.push_back(c);  // told by the event above
    }
    const uint64_t nwid = member.nwid;
    const uint64_t address = member.address;
    ctx.Emit(schema::Body::MemberChanged, [&](flatbuffers::FlatBufferBuilder& b) {
      auto flat = state::BuildMemberConfig(b, config);
      auto flat_changes = BuildFieldChanges(b, changes);
      return schema::CreateMemberChanged(b, nwid, address, flat, flat_changes).Union();
    });
    ++outcome.events;
  }
  return absl::OkStatus();
}

}  // namespace

ctl::Command PutMemberCommand(ctl::Actor actor, uint64_t nwid, uint64_t address,
                              MemberEdit edit, bool sets_ip_assignments,
                              std::shared_ptr<MemberOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  command.reads = {ctl::ObjectKey::Network(nwid)};
  command.writes = {ctl::ObjectKey::Member(nwid, address)};
  if (sets_ip_assignments) command.writes.push_back(ctl::ObjectKey::NetworkIps(nwid));
  command.actor = std::move(actor);
  command.decide = [nwid, address, edit = std::move(edit), outcome](
                       const state::State& state, ctl::CommandContext& ctx) -> absl::Status {
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) return NetworkNotFound(nwid);
    auto it = network->members.find(address);
    if (it == network->members.end()) return Create(*network, address, edit, ctx, *outcome);
    return Update(it->second, edit, ctx, *outcome);
  };
  return command;
}

ctl::Command DeleteMemberCommand(ctl::Actor actor, uint64_t nwid, uint64_t address,
                                 std::shared_ptr<MemberOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  command.reads = {ctl::ObjectKey::Network(nwid)};
  // Deleting frees the member's addresses for pool assignment.
  command.writes = {ctl::ObjectKey::Member(nwid, address), ctl::ObjectKey::NetworkIps(nwid)};
  command.actor = std::move(actor);
  command.decide = [nwid, address, outcome](const state::State& state,
                                            ctl::CommandContext& ctx) -> absl::Status {
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) return NetworkNotFound(nwid);
    const state::Member* member = state.FindMember(nwid, address);
    if (member == nullptr) {
      return absl::NotFoundError(absl::StrCat("member ", state::AddressHex(address),
                                              " does not exist in network ",
                                              state::NetworkIdHex(nwid)));
    }
    outcome->deleted = *member;
    outcome->events = 1;
    ctx.Emit(schema::Body::MemberDeleted, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberDeleted(b, nwid, address).Union();
    });
    return absl::OkStatus();
  };
  return command;
}

}  // namespace almanac::commands
