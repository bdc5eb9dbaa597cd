// Commands that create, change, authorize and delete members (admin API and CLI).
//
// Event choice (one accepted change = one event, naming the actor):
// - A new member: MemberCreated with its config (authorized false), then MemberAuthorized
//   ("api") if the request authorizes it, since only MemberAuthorized records
//   lastAuthorizedTime (ctl/state/projector.h).
// - An update whose only change is `authorized`: MemberAuthorized (credential "api") or
//   MemberDeauthorized.
// - Any other update: one MemberChanged with the whole new config and the changed fields.
//   When `authorized` flips as well, MemberAuthorized/MemberDeauthorized comes first (the
//   projector's MemberChanged keeps the times), so that request writes two events.
// - Nothing changed: no event.
//
// Keys: read ObjectKey::Network(nwid); write ObjectKey::Member(nwid, address), plus
// ObjectKey::NetworkIps(nwid) when the request sets ipAssignments (pool assignment reads
// every address taken in the network).
//
// Thread safety: building commands is pure; run them only through the sequencer.
#ifndef ALMANAC_CTL_COMMANDS_MEMBER_COMMANDS_H_
#define ALMANAC_CTL_COMMANDS_MEMBER_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/commands/field_change.h"
#include "ctl/sequencer.h"
#include "ctl/state/state.h"

namespace almanac::commands {

struct MemberEditResult {
  state::MemberConfig config;
  std::vector<FieldChange> changes;  // empty: nothing changed
};

// Applies an already validated request to the old config (defaults for a new member).
// Pure and cheap: it runs on the sequencer thread.
using MemberEdit =
    std::function<absl::StatusOr<MemberEditResult>(const state::MemberConfig& old)>;

struct MemberOutcome {
  bool created = false;
  size_t events = 0;
  std::optional<state::Member> deleted;  // DeleteMemberCommand: the member as it was
};

// Creates the member if absent, else updates it (events as above).
// Errors: NotFound when the network does not exist; ResourceExhausted when creating would
// pass kNetworkMembersMax; the edit's own errors.
// REQUIRES: address is a valid 40-bit ZeroTier address (the caller checks; 400 otherwise).
ctl::Command PutMemberCommand(ctl::Actor actor, uint64_t nwid, uint64_t address,
                              MemberEdit edit, bool sets_ip_assignments,
                              std::shared_ptr<MemberOutcome> outcome);

// Deletes the member (MemberDeleted). NotFound when the network or member does not exist.
ctl::Command DeleteMemberCommand(ctl::Actor actor, uint64_t nwid, uint64_t address,
                                 std::shared_ptr<MemberOutcome> outcome);

// The credential type MemberAuthorized carries for an admin's authorization.
inline constexpr char kApiCredentialType[] = "api";

}  // namespace almanac::commands

#endif  // ALMANAC_CTL_COMMANDS_MEMBER_COMMANDS_H_
