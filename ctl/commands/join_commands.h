// The decision a controller makes when a ZeroTier node asks for a network's config
// (shared/docs/zerotier-protocol.md §4), as a sequencer Command so every consequence is an
// event written before the node hears anything:
//   - unknown network: verdict kNotFound, no event;
//   - first request of a member (or one an admin created without an identity): MemberJoined
//     with the identity and request metadata, before anything else; a member new to the
//     network also gets the network's "default": true capabilities (MemberChanged), as
//     ZeroTier's controller grants them to new members;
//   - identity different from the one on record: kDenied (no event besides none);
//   - not authorized: on a public network MemberAuthorized (credential "public") and go on,
//     as ZeroTier does; on a private one kDenied;
//   - authorized: when v4AssignMode.zt is on, noAutoAssignIps is off and the member has no
//     IPv4 inside a pool yet, IpAssigned with the address PickIpv4 gives (ctl/net/assign.h);
//     verdict kAuthorized.
// Keys: reads Network(nwid) and NetworkIps(nwid); writes Member(nwid, address) and
// NetworkIps(nwid) (declared always, since whether a pool address is needed is only known
// while deciding).
// Thread safety: building the command is pure; run it only through the sequencer.
#ifndef ALMANAC_CTL_COMMANDS_JOIN_COMMANDS_H_
#define ALMANAC_CTL_COMMANDS_JOIN_COMMANDS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "ctl/sequencer.h"

namespace almanac::commands {

struct JoinRequest {
  uint64_t nwid = 0;
  uint64_t address = 0;
  std::array<uint8_t, 64> identity_public{};  // the key the node proved it holds
  int32_t protocol_version = -1;
  int32_t version_major = -1;
  int32_t version_minor = -1;
  int32_t version_revision = -1;
  std::string os_arch;
  std::string physical_address;  // "10.99.0.2/9992"
};

enum class JoinVerdict { kNotFound, kDenied, kAuthorized };

struct JoinOutcome {
  JoinVerdict verdict = JoinVerdict::kNotFound;
  bool joined = false;         // MemberJoined written
  bool authorized_now = false;  // MemberAuthorized("public") written
  std::string assigned_ip;     // IpAssigned written with this address, or ""
};

// `outcome` is filled by the sequencer thread; read it after Submit returns OK.
// Errors from Submit: ResourceExhausted when a new member would pass kNetworkMembersMax.
ctl::Command JoinCommand(const JoinRequest& request, std::shared_ptr<JoinOutcome> outcome);

// Runs JoinCommand's decision against `state` without the sequencer. True when it writes
// no event (an unknown network, a known member that is denied or already authorized with
// its addresses): *outcome is the verdict, and the caller may answer at once. False when
// events are due (or the decision refused): submit JoinCommand. `now_ms` is only used for
// drafts that are thrown away. REQUIRES: the caller holds the state's reader lock
// (Sequencer::Read).
bool DecideWithoutWrites(const state::State& state, const JoinRequest& request, int64_t now_ms,
                         JoinOutcome* outcome);

// True when the member exists, is authorized and JoinCommand would give it a pool address
// now (the rule above). The push path asks this for a member just authorized through the
// API, so the pushed config carries the address (as ZeroTier's controller assigns at
// authorization) instead of waiting for the node's next request. REQUIRES: the caller
// holds the state's reader lock (Sequencer::Read).
bool PoolAddressDue(const state::State& state, uint64_t nwid, uint64_t address);

// IpAssigned with the pool address PoolAddressDue promises, decided again under the
// sequencer (nothing if it is no longer due); never joins nor authorizes anybody.
// outcome->assigned_ip names the address written, or is "". Actor: the node the address
// is for, as for its join. Keys as JoinCommand.
ctl::Command AssignPoolAddressCommand(uint64_t nwid, uint64_t address,
                                      std::shared_ptr<JoinOutcome> outcome);

}  // namespace almanac::commands

#endif  // ALMANAC_CTL_COMMANDS_JOIN_COMMANDS_H_
