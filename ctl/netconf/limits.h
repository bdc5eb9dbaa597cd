// Named limits of the netconf responder (ctl/netconf/). Every table keyed by outside input
// (node addresses, physical sources, packet ids) has a bound here with its reason.
// Header-only constants; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_LIMITS_H_
#define ALMANAC_CTL_NETCONF_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "ctl/zt/limits.h"

namespace almanac::netconf {

// §4: a chunk carries at most 9740 bytes of dictionary (real nodes refuse more).
inline constexpr size_t kChunkBytesMax = 9740;
// OK header (1 verb + 1 in-re verb + 8 id) + nwid, len, flags, update id, total, offset
// (8+2+1+8+4+4) + signature (1+2+96) + packet header (28): the largest chunk packet.
inline constexpr size_t kChunkPacketBytesMax = 28 + 9 + 27 + 99 + kChunkBytesMax;
static_assert(kChunkPacketBytesMax <= zt::kPacketBytesMax,
              "a full chunk must fit one (fragmented) packet");

// §5: certificate-of-membership window default and bounds.
inline constexpr uint64_t kCredentialTimeMaxDeltaMs = 30 * 60 * 1000;
// A config dictionary larger than this is refused (16 chunks; ZeroTier's own bound on a
// config is about 400 KB, ours is far below that and above any real network).
inline constexpr size_t kConfigBytesMax = 16 * kChunkBytesMax;
// ZeroTier caps the things in one certificate of ownership at 16.
inline constexpr size_t kOwnershipThingsMax = 16;

// Peer engine tables.
inline constexpr size_t kPeersMax = 65536;            // key cache entries (48 B key + id)
inline constexpr size_t kWhoisWaitingPacketsMax = 256;  // packets held for an identity
inline constexpr size_t kWhoisWaitingPerSourceMax = 4;
inline constexpr absl::Duration kWhoisTimeout = absl::Seconds(5);
// Checking a new identity costs ~20 ms of memory-hard work on the receive thread. At most
// this many per second (about a third of one core), and at most kValidatePerSourceMax of
// them for one physical source, so a flood of made-up identities cannot starve known
// members (whose keys are cached and need no check).
inline constexpr size_t kValidatePerSecondMax = 16;
inline constexpr size_t kValidatePerSourceMax = 4;
inline constexpr size_t kRateLimitEntriesMax = 65536;  // (member, network) -> last answer
inline constexpr absl::Duration kRateLimitInterval = absl::Seconds(1);
inline constexpr size_t kRecentMembersMax = 65536;      // push targets
inline constexpr absl::Duration kPushRecentWindow = absl::Minutes(5);
inline constexpr absl::Duration kRootHelloInterval = absl::Seconds(60);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_LIMITS_H_
