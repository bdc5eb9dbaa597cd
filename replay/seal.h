// Seals: the controller's signature over a point of the journal's hash chain, so that
// anyone holding only the controller's PUBLIC identity can prove that history up to
// that point was not rewritten (shared/docs/design.md, "Events").
//
// A Seal record (schemas/events.fbs) carries sealed_seq, sealed_hash (= chain_hash of
// record sealed_seq, journal/record_format.h) and signature. The signed bytes are exactly
// (52 bytes, kSealMessageBytes):
//   offset  size  field
//   0       12    ASCII "almanac-seal" (no terminator): a domain separator, so a seal
//                 signature can never be replayed as any other signed ZeroTier message
//   12      8     sealed_seq, uint64 big-endian
//   20      32    sealed_hash
// signature = zt::Identity::Sign(message): 96 bytes, Ed25519 over SHA-512(message)[0:32],
// then SHA-512(message)[0:32] (shared/docs/zerotier-protocol.md §1).
//
// A seal is valid when its signature verifies under the controller identity AND
// sealed_hash equals the journal's chain hash of record sealed_seq AND sealed_seq is
// before the seal's own record. MakeSealCommand emits a seal for the last applied record.
//
// Thread safety: pure functions; the command's decide runs on the sequencer thread.
#ifndef ALMANAC_REPLAY_SEAL_H_
#define ALMANAC_REPLAY_SEAL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ctl/sequencer.h"
#include "ctl/zt/identity.h"
#include "journal/record_format.h"
#include "schemas/events_generated.h"

namespace almanac::replay {

inline constexpr std::string_view kSealMagic = "almanac-seal";
inline constexpr size_t kSealMessageBytes = 12 + 8 + journal::kChainHashBytes;

// The exact bytes a seal signs (see the table above).
std::array<uint8_t, kSealMessageBytes> SealMessage(uint64_t sealed_seq,
                                                   const journal::ChainHash& sealed_hash);

// Checks a Seal body's shape and signature under `controller` (a public identity).
// OK when sealed_hash has 32 bytes, the signature 96 bytes and verifies over
// SealMessage(sealed_seq, sealed_hash). DataLoss saying which part failed otherwise. The
// caller still checks sealed_hash against the chain (it knows the journal).
absl::Status CheckSealSignature(const schema::Seal& seal, const zt::Identity& controller);

// A sequencer command (Actor System) that appends one Seal for the state's last record
// (state.last_seq(), state.chain_hash()), signed by `identity`. It writes nothing for an
// empty state. REQUIRES: identity.has_secret(); identity outlives the command.
ctl::Command MakeSealCommand(const zt::Identity* identity);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_SEAL_H_
