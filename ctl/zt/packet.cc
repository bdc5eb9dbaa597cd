#include "ctl/zt/packet.h"

#include <lz4.h>
#include <sodium.h>

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/zt/wire.h"

namespace almanac::zt {
namespace {

void EnsureSodium() {
  // sodium_init is idempotent and thread-safe; -1 means no usable randomness source.
  static const int ready = sodium_init();
  ALMANAC_CHECK(ready >= 0);
}

// §2 Armor: the per-packet Salsa20/12 key is key48[0:32] with bytes 0-17 XORed by the
// packet's bytes 0-17, byte 18 by flags & 0xf8 (so hops, which relays change, are left
// out), and bytes 19-20 by the packet length as little-endian 16 bits.
std::array<uint8_t, 32> PacketKey(std::string_view packet, const Key48& key) {
  std::array<uint8_t, 32> k;
  std::memcpy(k.data(), key.data(), 32);
  for (size_t i = 0; i < kFlagsOffset; ++i) k[i] ^= static_cast<uint8_t>(packet[i]);
  k[18] ^= static_cast<uint8_t>(packet[kFlagsOffset]) & 0xf8;
  k[19] ^= static_cast<uint8_t>(packet.size() & 0xff);
  k[20] ^= static_cast<uint8_t>((packet.size() >> 8) & 0xff);
  return k;
}

// The Salsa20/12 keystream for the packet: 64 bytes (the Poly1305 key is the first 32),
// then keystream for the bytes from the verb on. libsodium has no counter variant for
// Salsa20/12, so the whole stream is generated and the first block set apart.
std::string Keystream(std::string_view packet, const Key48& key) {
  const std::array<uint8_t, 32> k = PacketKey(packet, key);
  std::string stream(64 + packet.size() - kVerbOffset, '\0');
  crypto_stream_salsa2012(reinterpret_cast<unsigned char*>(stream.data()), stream.size(),
                          reinterpret_cast<const unsigned char*>(packet.data()), k.data());
  return stream;
}

void ComputeMac(std::string_view packet, const std::string& stream, uint8_t mac[16]) {
  crypto_onetimeauth_poly1305(
      mac, reinterpret_cast<const unsigned char*>(packet.data() + kVerbOffset),
      packet.size() - kVerbOffset, reinterpret_cast<const unsigned char*>(stream.data()));
}

void XorFrom(std::string& packet, const std::string& stream) {
  for (size_t i = kVerbOffset; i < packet.size(); ++i) {
    packet[i] = static_cast<char>(packet[i] ^ stream[64 + i - kVerbOffset]);
  }
}

}  // namespace

absl::StatusOr<PacketHeader> ParseHeader(std::string_view packet) {
  if (packet.size() < kPacketBytesMin) {
    return absl::InvalidArgumentError(
        absl::StrCat("packet of ", packet.size(), " bytes is shorter than a header"));
  }
  PacketHeader h;
  h.packet_id = LoadUint(packet.data() + kPacketIdOffset, 8);
  h.destination = LoadUint(packet.data() + kDestinationOffset, 5);
  h.source = LoadUint(packet.data() + kSourceOffset, 5);
  h.flags = static_cast<uint8_t>(packet[kFlagsOffset]);
  return h;
}

Verb PacketVerb(std::string_view packet) {
  ALMANAC_CHECK(packet.size() >= kPacketBytesMin);
  return static_cast<Verb>(static_cast<uint8_t>(packet[kVerbOffset]) & kVerbMask);
}

std::string_view PacketPayload(std::string_view packet) {
  ALMANAC_CHECK(packet.size() >= kPacketBytesMin);
  return packet.substr(kPayloadOffset);
}

absl::Status Dearmor(std::string& packet, const Key48& key) {
  if (packet.size() < kPacketBytesMin || packet.size() > kPacketBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("packet of ", packet.size(), " bytes is outside the valid sizes"));
  }
  const uint8_t cipher =
      (static_cast<uint8_t>(packet[kFlagsOffset]) & kFlagsCipherMask) >> kFlagsCipherShift;
  if (cipher == 2 || cipher == 3) {
    return absl::UnimplementedError(absl::StrCat("cipher suite ", cipher, " not handled"));
  }
  if (cipher > 3) {
    return absl::InvalidArgumentError(absl::StrCat("cipher suite ", cipher, " unknown"));
  }
  EnsureSodium();
  const std::string stream = Keystream(packet, key);
  uint8_t mac[16];
  ComputeMac(packet, stream, mac);
  if (sodium_memcmp(mac, packet.data() + kMacOffset, kMacBytes) != 0) {
    return absl::DataLossError("packet MAC does not verify");
  }
  if (cipher == 1) XorFrom(packet, stream);
  return absl::OkStatus();
}

void Armor(std::string& packet, const Key48& key, int cipher) {
  ALMANAC_CHECK(cipher == 0 || cipher == 1);
  ALMANAC_CHECK(packet.size() >= kPacketBytesMin);
  ALMANAC_CHECK(packet.size() <= kPacketBytesMax);
  EnsureSodium();
  uint8_t flags = static_cast<uint8_t>(packet[kFlagsOffset]);
  flags = static_cast<uint8_t>((flags & ~(kFlagsCipherMask | kFlagEncrypted)) |
                               (cipher << kFlagsCipherShift));
  if (cipher == 1) flags |= kFlagEncrypted;
  packet[kFlagsOffset] = static_cast<char>(flags);
  const std::string stream = Keystream(packet, key);
  if (cipher == 1) XorFrom(packet, stream);
  uint8_t mac[16];
  ComputeMac(packet, stream, mac);
  std::memcpy(&packet[kMacOffset], mac, kMacBytes);
}

absl::Status Uncompress(std::string& packet) {
  ALMANAC_CHECK(packet.size() >= kPacketBytesMin);
  const uint8_t verb = static_cast<uint8_t>(packet[kVerbOffset]);
  if ((verb & kVerbFlagCompressed) == 0) return absl::OkStatus();
  std::string plain(kPayloadPlainBytesMax, '\0');
  const int n = LZ4_decompress_safe(packet.data() + kPayloadOffset, plain.data(),
                                    static_cast<int>(packet.size() - kPayloadOffset),
                                    static_cast<int>(plain.size()));
  if (n < 0) {
    return absl::InvalidArgumentError(
        "payload is not an LZ4 block of at most kPayloadPlainBytesMax bytes");
  }
  plain.resize(static_cast<size_t>(n));
  packet.resize(kPayloadOffset);
  packet.append(plain);
  packet[kVerbOffset] = static_cast<char>(verb & ~kVerbFlagCompressed);
  return absl::OkStatus();
}

bool Compress(std::string& packet) {
  ALMANAC_CHECK(packet.size() >= kPacketBytesMin);
  ALMANAC_CHECK((static_cast<uint8_t>(packet[kVerbOffset]) & kVerbFlagCompressed) == 0);
  const size_t plain_bytes = packet.size() - kPayloadOffset;
  if (plain_bytes == 0) return false;
  std::string block(LZ4_compressBound(static_cast<int>(plain_bytes)), '\0');
  const int n = LZ4_compress_default(packet.data() + kPayloadOffset, block.data(),
                                     static_cast<int>(plain_bytes),
                                     static_cast<int>(block.size()));
  if (n <= 0 || static_cast<size_t>(n) >= plain_bytes) return false;
  packet.resize(kPayloadOffset);
  packet.append(block.data(), static_cast<size_t>(n));
  packet[kVerbOffset] = static_cast<char>(packet[kVerbOffset] | kVerbFlagCompressed);
  return true;
}

uint64_t RandomPacketId() {
  // One randombytes_buf (a getrandom system call) per packet was a few percent of an
  // answer's cost: draw kRandomIdsPerRefill ids at a time, per thread (same source).
  thread_local std::array<uint64_t, kRandomIdsPerRefill> ids;
  thread_local size_t next = kRandomIdsPerRefill;
  if (next == ids.size()) {
    EnsureSodium();
    randombytes_buf(ids.data(), sizeof(ids));
    next = 0;
  }
  uint64_t id = ids[next];
  ids[next++] = 0;  // handed out once
  return id;
}

absl::StatusOr<std::string> BuildPacket(uint64_t packet_id, Address destination,
                                        Address source, Verb verb,
                                        std::string_view payload, Cipher cipher,
                                        const Key48& key, bool compress) {
  if (cipher != Cipher::kPoly1305None && cipher != Cipher::kPoly1305Salsa2012) {
    return absl::InvalidArgumentError("Almanac builds packets with cipher suites 0 and 1");
  }
  if (kPayloadOffset + payload.size() > kPacketBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payload of ", payload.size(), " bytes does not fit a packet of kPacketBytesMax"));
  }
  std::string packet;
  packet.reserve(kPayloadOffset + payload.size());
  AppendUint(packet, 8, packet_id);
  AppendUint(packet, 5, destination & kAddressMask);
  AppendUint(packet, 5, source & kAddressMask);
  packet.push_back(0);                  // Flags: set below and by Armor.
  packet.append(kMacBytes, '\0');       // MAC: written by Armor.
  packet.push_back(static_cast<char>(static_cast<uint8_t>(verb) & kVerbMask));
  packet.append(payload.data(), payload.size());
  if (compress) Compress(packet);
  if (packet.size() > kDatagramBytesMax) packet[kFlagsOffset] = kFlagFragmented;
  Armor(packet, key, static_cast<int>(cipher));
  return packet;
}

}  // namespace almanac::zt
