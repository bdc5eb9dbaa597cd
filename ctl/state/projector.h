// The projector: folds one journal record into the State.
//
// PURE: no clock, no I/O, no randomness, no threads. Everything it needs (time, chosen
// ids, assigned IPs) is in the record, so the daemon, the standby and almanac-replay
// reach bit-for-bit the same state from the same journal (shared/docs/design.md).
// Commands decide and validate; the projector records. It still checks the invariants
// below, because a violation means the journal or a command is wrong, and applying
// anyway would silently diverge.
//
// Thread safety: Apply mutates `state`; the caller (the sequencer) holds the writer lock.
#ifndef ALMANAC_CTL_STATE_PROJECTOR_H_
#define ALMANAC_CTL_STATE_PROJECTOR_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "ctl/state/state.h"
#include "schemas/events_generated.h"

namespace almanac::state {

// Applies `record` (already verified by the FlatBuffers Verifier) to `state` and records
// `chain_hash` (the chain hash of this record, computed by the journal) as the state's.
//
// Success: OK; state.last_seq() == record.seq(), state.chain_hash() == chain_hash.
// Every body type of schemas/events.fbs is handled:
// - ControllerInitialized: sets controller_identity.
// - EpochStarted: sets epoch (must be >= the current one).
// - Seal: changes nothing but last_seq and chain hash.
// - NetworkCreated: new network, creation time = record time, revision 1.
// - NetworkChanged: replaces the config, revision + 1.
// - NetworkDeleted: removes the network and all its members.
// - MemberJoined: creates the member if absent (creation time = record time), sets its
//   identity; member revision + 1 (as for every member event below).
// - MemberCreated: new member with the given config.
// - MemberAuthorized: authorized = true, last_authorized_time_ms = record time,
//   credential type from the event.
// - MemberDeauthorized: authorized = false, last_deauthorized_time_ms = record time.
// - MemberChanged: replaces the config; identity and times are kept.
// - MemberDeleted: removes the member.
// - IpAssigned: appends the IP to ip_assignments unless present.
// - IpReleased: removes the IP from ip_assignments (OK if absent).
//
// Errors (the state is then left exactly as it was):
// - FailedPrecondition: record.seq != state.last_seq() + 1 (message names both);
//   record.epoch or an EpochStarted epoch below state.epoch(); an event about a network
//   or member that must exist and does not, or must not exist and does (NetworkCreated,
//   MemberCreated for existing ones). Messages name the seq.
// - InvalidArgument: a body that is missing or malformed (no body, unknown body type,
//   identity text that does not parse or names another address, unknown credential
//   type, empty IP). Messages name the seq.
absl::Status Apply(State& state, const schema::Record& record,
                   const std::array<uint8_t, 32>& chain_hash);

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_PROJECTOR_H_
