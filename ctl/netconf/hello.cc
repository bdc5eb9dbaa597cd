#include "ctl/netconf/hello.h"

#include "ctl/zt/wire.h"

namespace almanac::netconf {

absl::StatusOr<std::string> BuildHelloPacket(uint64_t packet_id, const zt::Identity& self,
                                             uint64_t destination,
                                             const zt::InetAddress& sent_to,
                                             const zt::VersionInfo& version,
                                             uint64_t timestamp_ms, uint64_t planet_id,
                                             uint64_t planet_timestamp, const zt::Key48& key) {
  std::string payload;
  payload.push_back(static_cast<char>(version.protocol));
  payload.push_back(static_cast<char>(version.major));
  payload.push_back(static_cast<char>(version.minor));
  zt::AppendUint(payload, 2, version.revision);
  zt::AppendUint(payload, 8, timestamp_ms);
  payload += self.ToBinary(/*include_secret=*/false);
  zt::AppendInetAddress(payload, sent_to);
  zt::AppendUint(payload, 8, planet_id);
  zt::AppendUint(payload, 8, planet_timestamp);
  size_t tail_offset = zt::kPayloadOffset + payload.size();
  zt::AppendUint(payload, 2, 0);  // moon count
  // Encrypt the tail in a scratch packet with the same id (the tail's nonce), then hand the
  // encrypted payload to BuildPacket, which leaves suite-0 payloads as they are.
  std::string scratch(zt::kPayloadOffset, '\0');
  zt::StoreUint(scratch.data(), 8, packet_id);
  scratch += payload;
  zt::CryptHelloTail(scratch, tail_offset, key);
  return zt::BuildPacket(packet_id, destination, self.address(), zt::Verb::kHello,
                         std::string_view(scratch).substr(zt::kPayloadOffset),
                         zt::Cipher::kPoly1305None, key, /*compress=*/false);
}

}  // namespace almanac::netconf
