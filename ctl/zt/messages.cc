#include "ctl/zt/messages.h"

#include <sodium.h>

#include <cstring>

#include "base/check.h"
#include "ctl/zt/address.h"

namespace almanac::zt {

std::string IdentityBytes::Serialize() const {
  std::string out;
  AppendUint(out, 5, address & kAddressMask);
  out.push_back(0);  // Type 0: c25519.
  out.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  out.push_back(0);  // No secret.
  return out;
}

absl::StatusOr<IdentityBytes> ReadIdentityBytes(Reader& reader) {
  IdentityBytes id;
  uint8_t type = 0;
  std::string_view key;
  uint8_t secret_bytes = 0;
  if (!reader.ReadUint(5, &id.address) || !reader.ReadU8(&type) ||
      !reader.ReadBytes(id.public_key.size(), &key) || !reader.ReadU8(&secret_bytes)) {
    return absl::InvalidArgumentError("binary identity truncated");
  }
  if (type != 0) return absl::InvalidArgumentError("identity type is not 0 (c25519)");
  if (secret_bytes != 0) {
    return absl::InvalidArgumentError("identity on the wire carries a secret key");
  }
  if (IsReservedAddress(id.address)) {
    return absl::InvalidArgumentError("identity address is reserved");
  }
  std::memcpy(id.public_key.data(), key.data(), key.size());
  return id;
}

absl::StatusOr<Hello> ParseHello(std::string_view packet) {
  if (packet.size() < kPacketBytesMin || PacketVerb(packet) != Verb::kHello ||
      (static_cast<uint8_t>(packet[kVerbOffset]) & kVerbFlagCompressed) != 0) {
    return absl::InvalidArgumentError("not an uncompressed HELLO packet");
  }
  Reader r(PacketPayload(packet));
  Hello h;
  uint64_t revision = 0;
  if (!r.ReadU8(&h.version.protocol) || !r.ReadU8(&h.version.major) ||
      !r.ReadU8(&h.version.minor) || !r.ReadUint(2, &revision) ||
      !r.ReadU64(&h.timestamp)) {
    return absl::InvalidArgumentError("HELLO truncated before the identity");
  }
  h.version.revision = static_cast<uint16_t>(revision);
  absl::StatusOr<IdentityBytes> identity = ReadIdentityBytes(r);
  if (!identity.ok()) return identity.status();
  h.identity = *identity;
  absl::StatusOr<InetAddress> destination = ReadInetAddress(r);
  if (!destination.ok()) return destination.status();
  h.destination = *destination;
  if (!r.ReadU64(&h.planet_id) || !r.ReadU64(&h.planet_timestamp)) {
    return absl::InvalidArgumentError("HELLO truncated before the planet fields");
  }
  h.tail_offset = kPayloadOffset + r.offset();
  return h;
}

void CryptHelloTail(std::string& packet, size_t tail_offset, const Key48& key) {
  ALMANAC_CHECK(tail_offset >= kPayloadOffset);
  ALMANAC_CHECK(tail_offset <= packet.size());
  if (tail_offset == packet.size()) return;
  unsigned char nonce[8];
  std::memcpy(nonce, packet.data(), 8);
  nonce[7] &= 0xf8;
  unsigned char* tail = reinterpret_cast<unsigned char*>(&packet[tail_offset]);
  // Salsa20/12 with key48[0:32]: xor in place, keystream from block 0.
  crypto_stream_salsa2012_xor(tail, tail, packet.size() - tail_offset, nonce, key.data());
}

absl::StatusOr<OkMessage> ParseOk(std::string_view payload) {
  Reader r(payload);
  uint8_t verb = 0;
  OkMessage ok;
  if (!r.ReadU8(&verb) || !r.ReadU64(&ok.in_re_packet_id)) {
    return absl::InvalidArgumentError("OK payload shorter than its header");
  }
  ok.in_re_verb = static_cast<Verb>(verb & kVerbMask);
  ok.body = r.ReadRest();
  return ok;
}

std::string BuildOkPayload(Verb in_re_verb, uint64_t in_re_packet_id,
                           std::string_view body) {
  std::string out;
  out.push_back(static_cast<char>(in_re_verb));
  AppendUint(out, 8, in_re_packet_id);
  out.append(body.data(), body.size());
  return out;
}

std::string BuildOkHelloPayload(uint64_t hello_packet_id, uint64_t hello_timestamp,
                                const VersionInfo& version,
                                const InetAddress& hello_physical_source) {
  std::string body;
  AppendUint(body, 8, hello_timestamp);
  body.push_back(static_cast<char>(version.protocol));
  body.push_back(static_cast<char>(version.major));
  body.push_back(static_cast<char>(version.minor));
  AppendUint(body, 2, version.revision);
  AppendInetAddress(body, hello_physical_source);
  AppendUint(body, 2, 0);  // No world update.
  return BuildOkPayload(Verb::kHello, hello_packet_id, body);
}

absl::StatusOr<ErrorMessage> ParseError(std::string_view payload) {
  Reader r(payload);
  uint8_t verb = 0;
  ErrorMessage e;
  if (!r.ReadU8(&verb) || !r.ReadU64(&e.in_re_packet_id) || !r.ReadU8(&e.code)) {
    return absl::InvalidArgumentError("ERROR payload shorter than its header");
  }
  e.in_re_verb = static_cast<Verb>(verb & kVerbMask);
  e.body = r.ReadRest();
  return e;
}

std::string BuildErrorPayload(Verb in_re_verb, uint64_t in_re_packet_id, ErrorCode code,
                              std::string_view body) {
  std::string out;
  out.push_back(static_cast<char>(in_re_verb));
  AppendUint(out, 8, in_re_packet_id);
  out.push_back(static_cast<char>(code));
  out.append(body.data(), body.size());
  return out;
}

absl::StatusOr<ConfigRequest> ParseConfigRequest(std::string_view payload) {
  Reader r(payload);
  ConfigRequest req;
  uint16_t metadata_bytes = 0;
  if (!r.ReadU64(&req.network_id) || !r.ReadU16(&metadata_bytes) ||
      !r.ReadBytes(metadata_bytes, &req.metadata)) {
    return absl::InvalidArgumentError("NETWORK_CONFIG_REQUEST truncated");
  }
  if (r.remaining() == 0) return req;
  uint64_t revision = 0;
  uint64_t timestamp = 0;
  if (!r.ReadU64(&revision) || !r.ReadU64(&timestamp)) {
    return absl::InvalidArgumentError("NETWORK_CONFIG_REQUEST revision fields truncated");
  }
  req.have_revision = revision;
  req.have_timestamp = timestamp;
  return req;
}

}  // namespace almanac::zt
