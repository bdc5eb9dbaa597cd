#include "ctl/commands/network_commands.h"

#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/commands/limits.h"
#include "ctl/state/convert.h"

namespace almanac::commands {
namespace {

constexpr uint64_t kNetworkSuffixCount = uint64_t{1} << 24;

absl::Status EmitCreated(uint64_t nwid, const NetworkEdit& edit, ctl::CommandContext& ctx,
                         NetworkOutcome& outcome) {
  absl::StatusOr<NetworkEditResult> edited = edit(state::NetworkConfig{});
  if (!edited.ok()) return edited.status();
  const state::NetworkConfig& config = edited->config;
  ctx.Emit(schema::Body::NetworkCreated, [&](flatbuffers::FlatBufferBuilder& b) {
    auto flat = state::BuildNetworkConfig(b, config);
    return schema::CreateNetworkCreated(b, nwid, flat).Union();
  });
  outcome.nwid = nwid;
  outcome.created = true;
  outcome.changes = edited->changes.size();
  return absl::OkStatus();
}

absl::Status EmitChanged(const state::Network& network, const NetworkEdit& edit,
                         ctl::CommandContext& ctx, NetworkOutcome& outcome) {
  absl::StatusOr<NetworkEditResult> edited = edit(network.config);
  if (!edited.ok()) return edited.status();
  outcome.nwid = network.nwid;
  outcome.created = false;
  // Changes are computed from rendered JSON, the config compare is the ground truth:
  // both must agree that something changed before an event is written.
  if (edited->changes.empty() || edited->config == network.config) {
    outcome.changes = 0;
    return absl::OkStatus();
  }
  outcome.changes = edited->changes.size();
  const uint64_t nwid = network.nwid;
  ctx.Emit(schema::Body::NetworkChanged, [&](flatbuffers::FlatBufferBuilder& b) {
    auto flat = state::BuildNetworkConfig(b, edited->config);
    auto changes = BuildFieldChanges(b, edited->changes);
    return schema::CreateNetworkChanged(b, nwid, flat, changes).Union();
  });
  return absl::OkStatus();
}

}  // namespace

ctl::Command CreateNetworkCommand(ctl::Actor actor, uint64_t controller_address,
                                  NetworkEdit edit, std::shared_ptr<NetworkOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Controller()};
  command.actor = std::move(actor);
  command.decide = [controller_address, edit = std::move(edit), outcome](
                       const state::State& state, ctl::CommandContext& ctx) -> absl::Status {
    for (int attempt = 0; attempt < kRandomNetworkIdAttempts; ++attempt) {
      const uint64_t suffix = absl::Uniform<uint64_t>(ctx.rng(), 0, kNetworkSuffixCount);
      const uint64_t nwid = (controller_address << 24) | suffix;
      if (state.FindNetwork(nwid) != nullptr) continue;
      return EmitCreated(nwid, edit, ctx, *outcome);
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("no free network id found in ", kRandomNetworkIdAttempts, " tries"));
  };
  return command;
}

ctl::Command PutNetworkCommand(ctl::Actor actor, uint64_t nwid, NetworkEdit edit,
                               std::shared_ptr<NetworkOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  // Creating changes the set of networks, which a random create reads.
  command.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid)};
  command.actor = std::move(actor);
  command.decide = [nwid, edit = std::move(edit), outcome](
                       const state::State& state, ctl::CommandContext& ctx) -> absl::Status {
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) return EmitCreated(nwid, edit, ctx, *outcome);
    return EmitChanged(*network, edit, ctx, *outcome);
  };
  return command;
}

ctl::Command ChangeNetworkCommand(ctl::Actor actor, uint64_t nwid, NetworkEdit edit,
                                  std::shared_ptr<NetworkOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Network(nwid)};
  command.actor = std::move(actor);
  command.decide = [nwid, edit = std::move(edit), outcome](
                       const state::State& state, ctl::CommandContext& ctx) -> absl::Status {
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) {
      return absl::NotFoundError(absl::StrCat("network ", state::NetworkIdHex(nwid),
                                              " does not exist"));
    }
    return EmitChanged(*network, edit, ctx, *outcome);
  };
  return command;
}

ctl::Command DeleteNetworkCommand(ctl::Actor actor, uint64_t nwid,
                                  std::shared_ptr<NetworkOutcome> outcome) {
  ALMANAC_CHECK(outcome != nullptr);
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid),
                    ctl::ObjectKey::NetworkIps(nwid)};
  command.actor = std::move(actor);
  command.decide = [nwid, outcome](const state::State& state,
                                   ctl::CommandContext& ctx) -> absl::Status {
    const state::Network* network = state.FindNetwork(nwid);
    if (network == nullptr) {
      return absl::NotFoundError(absl::StrCat("network ", state::NetworkIdHex(nwid),
                                              " does not exist"));
    }
    state::Network copy;  // without members: a large network must not be copied here
    copy.nwid = network->nwid;
    copy.config = network->config;
    copy.creation_time_ms = network->creation_time_ms;
    copy.revision = network->revision;
    outcome->nwid = nwid;
    outcome->deleted = std::move(copy);
    ctx.Emit(schema::Body::NetworkDeleted, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkDeleted(b, nwid).Union();
    });
    return absl::OkStatus();
  };
  return command;
}

}  // namespace almanac::commands
