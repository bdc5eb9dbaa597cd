// Sequencer commands that write an imported ZeroTier network and its members as events
// (see tools/cli/import_zerotier.h for the event choice).
//
// Each command re-checks its preconditions against the state it decides on (the network
// is absent / present, the members absent), so it refuses with FailedPrecondition instead
// of emitting an event the projector would refuse.
//
// Thread safety: building commands is pure; run them only through the sequencer. The
// ImportedNetwork/ImportedMember values are copied into the commands.
#ifndef ALMANAC_TOOLS_CLI_IMPORT_EVENTS_H_
#define ALMANAC_TOOLS_CLI_IMPORT_EVENTS_H_

#include <cstddef>
#include <vector>

#include "ctl/sequencer.h"
#include "tools/cli/zerotier_dir.h"

namespace almanac::cli {

// The credential type of MemberAuthorized for imported authorizations.
inline constexpr char kImportCredentialType[] = "import";

// NetworkCreated for `network` (its config only; members are separate commands).
ctl::Command ImportNetworkCommand(const ctl::Actor& actor, const ImportedNetwork& network);

// The events of `members` (all of network nwid), in order.
// REQUIRES: the sum of EventCount over members <= kImportEventsPerCommandMax.
ctl::Command ImportMembersCommand(const ctl::Actor& actor, uint64_t nwid,
                                  std::vector<ImportedMember> members);

// Events one member becomes: MemberCreated, MemberJoined if it has an identity,
// MemberAuthorized if authorized, one IpAssigned per IP.
size_t EventCount(const ImportedMember& member);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_IMPORT_EVENTS_H_
