// ZeroTier VL1 packets: header layout, verbs, flags, armor (cipher suites 0 and 1), LZ4
// payload compression, and building whole packets
// (shared/docs/zerotier-protocol.md §2, checked against shared/vectors/zerotier-1.14.1).
//
// Layout: packet id(8, also the IV) | destination(5) | source(5) | flags(1) | MAC(8) |
// verb(1) | payload. Flags `FFCCCHHH`: 0x80 legacy encrypted, 0x40 fragmented,
// bits 3-5 cipher, bits 0-2 hops (relays increment hops; it is not authenticated).
// Verb byte: 0x80 = payload is one raw LZ4 block, low 5 bits = verb.
//
// Receiving, in order: (1) reassemble (fragment.h), (2) Dearmor with the key48 agreed
// with the source, (3) Uncompress, (4) read PacketPayload() with messages.h.
// Sending: BuildPacket (compresses, sets the flags, armors), then SplitPacket.
//
// All functions are pure and thread-safe; they use libsodium (sodium_init is called
// on first use) and liblz4.
#ifndef ALMANAC_CTL_ZT_PACKET_H_
#define ALMANAC_CTL_ZT_PACKET_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <string_view>
#include "ctl/zt/limits.h"

namespace almanac::zt {

// The 48-byte key agreed between two identities (§1): SHA-512(X25519(...))[0:48].
using Key48 = std::array<uint8_t, 48>;

// A 40-bit ZeroTier address in the low bits.
using Address = uint64_t;
inline constexpr Address kAddressMask = 0xffffffffffULL;

// Header layout.
inline constexpr size_t kPacketIdOffset = 0;
inline constexpr size_t kDestinationOffset = 8;
inline constexpr size_t kSourceOffset = 13;
inline constexpr size_t kFlagsOffset = 18;
inline constexpr size_t kMacOffset = 19;
inline constexpr size_t kMacBytes = 8;
inline constexpr size_t kVerbOffset = 27;
inline constexpr size_t kPayloadOffset = 28;
// The header plus the verb byte.
inline constexpr size_t kPacketBytesMin = 28;

// Flags byte.
// Legacy "encrypted" flag: real 1.14.1 nodes set it on every suite-1 packet and on no
// other (flags 0x88 vs 0x00 and 0x18 in shared/vectors); it is under the MAC.
inline constexpr uint8_t kFlagEncrypted = 0x80;
inline constexpr uint8_t kFlagFragmented = 0x40;
inline constexpr uint8_t kFlagsCipherMask = 0x38;
inline constexpr int kFlagsCipherShift = 3;
inline constexpr uint8_t kFlagsHopsMask = 0x07;

// Verb byte.
inline constexpr uint8_t kVerbFlagCompressed = 0x80;
inline constexpr uint8_t kVerbMask = 0x1f;

enum class Verb : uint8_t {
  kNop = 0x00,
  kHello = 0x01,
  kError = 0x02,
  kOk = 0x03,
  kWhois = 0x04,
  kRendezvous = 0x05,
  kFrame = 0x06,
  kExtFrame = 0x07,
  kEcho = 0x08,
  kMulticastLike = 0x09,
  kNetworkCredentials = 0x0a,
  kNetworkConfigRequest = 0x0b,
  kNetworkConfig = 0x0c,
  kMulticastGather = 0x0d,
};

// Cipher suites (flags bits 3-5).
enum class Cipher : uint8_t {
  kPoly1305None = 0,       // MAC only; HELLO uses it.
  kPoly1305Salsa2012 = 1,  // Salsa20/12 encryption + Poly1305 MAC.
  kNone = 2,               // Trusted path: no MAC. Almanac never accepts it.
  kAesGmacSiv = 3,         // Not implemented yet (Almanac advertises protocol 11).
};

// The header fields of a packet (not its fragments).
struct PacketHeader {
  uint64_t packet_id = 0;
  Address destination = 0;
  Address source = 0;
  uint8_t flags = 0;

  bool fragmented() const { return (flags & kFlagFragmented) != 0; }
  uint8_t cipher() const { return (flags & kFlagsCipherMask) >> kFlagsCipherShift; }
  uint8_t hops() const { return flags & kFlagsHopsMask; }
};

// Reads the header of a whole packet (or a fragmented packet's head).
// InvalidArgument when shorter than kPacketBytesMin.
absl::StatusOr<PacketHeader> ParseHeader(std::string_view packet);

// The verb (low 5 bits of the verb byte). REQUIRES: packet.size() >= kPacketBytesMin and,
// for cipher 1, the packet has been dearmored.
Verb PacketVerb(std::string_view packet);

// The bytes after the verb byte. REQUIRES: packet.size() >= kPacketBytesMin.
std::string_view PacketPayload(std::string_view packet);

// Checks the MAC of a whole (reassembled) packet and, for cipher 1, decrypts the bytes
// from the verb on in place. Header, hops and length are left as they are.
// OK: MAC verified (suite 0 or 1); the packet is now plaintext.
// DataLoss: the MAC does not match (wrong key, or altered bytes); packet unchanged.
// Unimplemented: suite 2 (trusted path, refused) or 3 (AES-GMAC-SIV): set it aside.
// InvalidArgument: shorter than kPacketBytesMin, longer than kPacketBytesMax, or suite 4-7.
absl::Status Dearmor(std::string& packet, const Key48& key);

// Sets the cipher bits of the flags to `cipher` (and kFlagEncrypted exactly when it is
// 1, as real nodes do), then computes the MAC and (suite 1)
// encrypts, in place. The fragmented flag and hops are kept and the length must be
// final, since both enter the per-packet key.
// REQUIRES: cipher is 0 or 1; kPacketBytesMin <= packet.size() <= kPacketBytesMax;
// the packet is plaintext (not yet armored).
void Armor(std::string& packet, const Key48& key, int cipher);

// If the verb byte has the compression flag, replaces the payload by its LZ4
// decompression (at most kPayloadPlainBytesMax bytes) and clears the flag.
// OK also when the packet was not compressed. InvalidArgument: not a valid LZ4 block or
// it decompresses to more than kPayloadPlainBytesMax; packet unchanged.
// REQUIRES: dearmored; packet.size() >= kPacketBytesMin.
absl::Status Uncompress(std::string& packet);

// LZ4-compresses the payload in place and sets the flag if that makes it smaller;
// returns whether it did. REQUIRES: plaintext, not compressed, size >= kPacketBytesMin.
bool Compress(std::string& packet);

// A random 64-bit packet id from libsodium's randomness (the id is also the armor's nonce:
// it must not repeat under one key), drawn in batches of kRandomIdsPerRefill per thread.
// Thread-safe.
uint64_t RandomPacketId();

// Builds a whole armored packet: header, verb, payload, compressed when `compress` and it
// helps, the fragmented flag set when the result exceeds kDatagramBytesMax (before the
// MAC, as real nodes do), hops 0, then Armor with `cipher`.
// InvalidArgument: cipher not 0 or 1, or the uncompressed packet would exceed
// kPacketBytesMax (a real node could not decompress it).
absl::StatusOr<std::string> BuildPacket(uint64_t packet_id, Address destination,
                                        Address source, Verb verb,
                                        std::string_view payload, Cipher cipher,
                                        const Key48& key, bool compress);

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_PACKET_H_
