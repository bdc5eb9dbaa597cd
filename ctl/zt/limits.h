// Named limits of Almanac's ZeroTier VL1 wire codecs (ctl/zt/).
//
// Every size or count that bytes from the network can grow has a limit here, with the
// reason for its value. Facts cited are from shared/docs/zerotier-protocol.md (§2-§5).
// Header-only constants; thread-safe.
#ifndef ALMANAC_CTL_ZT_LIMITS_H_
#define ALMANAC_CTL_ZT_LIMITS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace almanac::zt {

// §2: a packet over this many bytes is fragmented; it is also the largest UDP payload a
// ZeroTier 1.x node sends (head and each fragment datagram).
inline constexpr size_t kDatagramBytesMax = 1432;

// §2: at most 7 pieces (head + 6 fragments) per packet.
inline constexpr size_t kFragmentsMax = 7;

// Bytes of packet data in one fragment datagram (after its 16-byte header).
inline constexpr size_t kFragmentDataBytesMax = kDatagramBytesMax - 16;

// The largest whole (reassembled) packet: a 1432-byte head plus 6 full fragments. §2
// quotes 10024 (7 x 1432), which is ZeroTier's buffer size, but a packet that long would
// need an eighth piece, so none can be sent or received. Almanac builds nothing larger
// than this, compressed or not (a peer decompresses into a buffer of 10024 bytes).
inline constexpr size_t kPacketBytesMax =
    kDatagramBytesMax + (kFragmentsMax - 1) * kFragmentDataBytesMax;

// The largest payload an LZ4 block may decompress to. Above kPacketBytesMax so nothing a
// real node sends is refused, and small enough that a hostile block cannot make us
// allocate much.
inline constexpr size_t kPayloadPlainBytesMax = 16384;

// Reassembly table (fragment.h). Entries are keyed by (source, packet id).
// Packets in flight at once across all sources: 64 x 10 KB worst case = 640 KB.
inline constexpr size_t kReassemblyPacketsMax = 64;
// Packets in flight from one source: one source cannot take the whole table.
inline constexpr size_t kReassemblyPacketsPerSourceMax = 8;
// All pieces of a packet are sent back to back; half a second is generous on any path
// and short enough that stale pieces do not sit in the table.
inline constexpr absl::Duration kReassemblyTimeout = absl::Milliseconds(500);

// Dictionary (dictionary.h, §4). A netconf dictionary with 600 rules is 12.7 KB (see
// shared/vectors fragmented/); ZeroTier's own cap on rules (1024) and capabilities keeps
// a real one far below this.
inline constexpr size_t kDictionaryBytesMax = 256 * 1024;
// Real dictionaries have at most a few dozen keys.
inline constexpr size_t kDictionaryKeysMax = 256;
// Real keys are at most 4 characters ("ctmd", "ssov").
inline constexpr size_t kDictionaryKeyBytesMax = 32;

// Planet/moon files (planet.h, §3). ZeroTier 1.x allows at most 4 roots with at most 32
// stable endpoints each; a planet then stays well below 4 KB.
inline constexpr size_t kWorldBytesMax = 4096;
inline constexpr size_t kWorldRootsMax = 4;
inline constexpr size_t kWorldRootEndpointsMax = 32;

// RandomPacketId draws this many ids (512 bytes) per call into the randomness source, per
// thread: one system call for 64 packets instead of one each.
inline constexpr size_t kRandomIdsPerRefill = 64;

static_assert(kPacketBytesMax == 9928, "a head and 6 fragments");
static_assert(kPayloadPlainBytesMax >= kPacketBytesMax,
              "every payload a real node can send must decompress");

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_LIMITS_H_
