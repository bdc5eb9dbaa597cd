// Payload codecs for the verbs a controller speaks: HELLO, OK, ERROR and
// NETWORK_CONFIG_REQUEST (shared/docs/zerotier-protocol.md §3, §4).
//
// "Payload" means the bytes after the verb byte of a dearmored, uncompressed packet
// (PacketPayload() in packet.h). Parsers borrow from the bytes they are given: the
// string_views they return live as long as those bytes. Pure and thread-safe.
#ifndef ALMANAC_CTL_ZT_MESSAGES_H_
#define ALMANAC_CTL_ZT_MESSAGES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <string_view>
#include "ctl/zt/inet_address.h"
#include "ctl/zt/packet.h"
#include "ctl/zt/wire.h"

namespace almanac::zt {

// A binary identity's public half as sliced from a packet or planet (§1):
// address(5) | type 0x00 | public(64) | secret length(1) = 0. Not validated here: the
// caller checks the address derivation (identity.h) before trusting it.
struct IdentityBytes {
  Address address = 0;
  std::array<uint8_t, 64> public_key{};  // X25519 public (32) then Ed25519 public (32).

  // The 71-byte binary form with secret length 0.
  std::string Serialize() const;
};

// Reads one binary identity. InvalidArgument when truncated, the type is not 0, the
// secret length is not 0 (a secret has no business on the wire), or the address is 0
// or starts with 0xff (reserved).
absl::StatusOr<IdentityBytes> ReadIdentityBytes(Reader& reader);

// Software and protocol versions as sent in HELLO and OK(HELLO).
struct VersionInfo {
  uint8_t protocol = 0;
  uint8_t major = 0;
  uint8_t minor = 0;
  uint16_t revision = 0;
};

// HELLO (§3): protocol | major | minor | revision(2) | timestamp(8) | identity |
// destination InetAddress | planet id(8) | planet timestamp(8) | encrypted tail.
struct Hello {
  VersionInfo version;
  uint64_t timestamp = 0;
  IdentityBytes identity;
  // The physical address the sender sent the HELLO to.
  InetAddress destination;
  uint64_t planet_id = 0;
  uint64_t planet_timestamp = 0;
  // Offset in the packet of the Salsa20/12-encrypted tail (moon count + moons); the
  // tail runs to the end of the packet. See CryptHelloTail.
  size_t tail_offset = 0;
};

// Parses a HELLO packet (whole packet, header included; HELLO is suite 0, so its payload
// is readable before the sender's key is known, which it must be to check the MAC).
// InvalidArgument: not a HELLO, compressed, or truncated/malformed.
absl::StatusOr<Hello> ParseHello(std::string_view packet);

// XORs the HELLO tail (packet[tail_offset..]) with Salsa20/12 keyed by key48[0:32] and
// nonce = packet id with byte 7 & 0xf8: decrypts a received tail or encrypts one to send.
// REQUIRES: packet.size() >= tail_offset >= kPayloadOffset.
void CryptHelloTail(std::string& packet, size_t tail_offset, const Key48& key);

// OK (§3): in-reply-to verb(1) | in-reply-to packet id(8) | verb-specific body.
struct OkMessage {
  Verb in_re_verb = Verb::kNop;
  uint64_t in_re_packet_id = 0;
  std::string_view body;
};
absl::StatusOr<OkMessage> ParseOk(std::string_view payload);  // InvalidArgument: < 9 bytes.
std::string BuildOkPayload(Verb in_re_verb, uint64_t in_re_packet_id,
                           std::string_view body);

// OK(HELLO) payload (§3): OK header | echoed timestamp(8) | protocol | major | minor |
// revision(2) | the HELLO's physical source | world update length(2) = 0.
std::string BuildOkHelloPayload(uint64_t hello_packet_id, uint64_t hello_timestamp,
                                const VersionInfo& version,
                                const InetAddress& hello_physical_source);

// ERROR (§3): in-reply-to verb(1) | in-reply-to packet id(8) | code(1) | body.
enum class ErrorCode : uint8_t {
  kObjNotFound = 0x03,
  kUnsupportedOperation = 0x05,
  kNetworkAccessDenied = 0x07,
  kAuthenticationRequired = 0x09,
};
struct ErrorMessage {
  Verb in_re_verb = Verb::kNop;
  uint64_t in_re_packet_id = 0;
  uint8_t code = 0;  // Not restricted to ErrorCode: peers may send others.
  std::string_view body;
};
absl::StatusOr<ErrorMessage> ParseError(std::string_view payload);  // InvalidArgument: < 10.
std::string BuildErrorPayload(Verb in_re_verb, uint64_t in_re_packet_id, ErrorCode code,
                              std::string_view body);

// NETWORK_CONFIG_REQUEST (§4): nwid(8) | metadata length(2) | metadata Dictionary |
// [have revision(8) | have timestamp(8)]. Parse the metadata with dictionary.h.
struct ConfigRequest {
  uint64_t network_id = 0;
  std::string_view metadata;
  std::optional<uint64_t> have_revision;
  std::optional<uint64_t> have_timestamp;
};
// InvalidArgument: truncated (the optional tail is all or nothing; extra bytes after it
// are ignored, as newer nodes may append fields).
absl::StatusOr<ConfigRequest> ParseConfigRequest(std::string_view payload);

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_MESSAGES_H_
