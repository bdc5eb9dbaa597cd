// Fuzzes VL1 packet decoding as the receive path runs it after reassembly: ParseHeader,
// ParseHello (HELLO is read before any key is known), Dearmor with a fixed key,
// Uncompress, and the payload parsers for OK, ERROR and NETWORK_CONFIG_REQUEST.
// Random bytes almost never carry a valid MAC, so the first input byte picks a mode:
//   even: the input is a packet as received (header, MAC and all);
//   odd:  the input is a plaintext packet that the fuzzer first armors with the fixed
//         key (bit 1 picks cipher suite 0 or 1), so decryption, LZ4 and the payload
//         parsers see arbitrary content behind a MAC that verifies.
// Properties: no crash; Armor then Dearmor restores the plaintext; Uncompress keeps to
// kPayloadPlainBytesMax and clears the flag; Compress then Uncompress round-trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ctl/zt/dictionary.h"
#include "ctl/zt/limits.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/packet.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace zt = almanac::zt;

zt::Key48 FixedKey() {
  zt::Key48 key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  return key;
}

void ParsePlaintext(std::string& packet) {
  const bool was_compressed = (packet[zt::kVerbOffset] & zt::kVerbFlagCompressed) != 0;
  if (!zt::Uncompress(packet).ok()) return;
  FUZZ_ASSERT((packet[zt::kVerbOffset] & zt::kVerbFlagCompressed) == 0);
  FUZZ_ASSERT(packet.size() - zt::kPayloadOffset <= zt::kPayloadPlainBytesMax);
  const std::string_view payload = zt::PacketPayload(packet);
  switch (zt::PacketVerb(packet)) {
    case zt::Verb::kOk:
      (void)zt::ParseOk(payload);
      break;
    case zt::Verb::kError:
      (void)zt::ParseError(payload);
      break;
    case zt::Verb::kNetworkConfigRequest: {
      auto request = zt::ParseConfigRequest(payload);
      if (request.ok()) (void)zt::Dictionary::Parse(request->metadata);
      break;
    }
    default:
      break;
  }
  if (!was_compressed && packet.size() <= zt::kPacketBytesMax) {
    std::string copy = packet;
    if (zt::Compress(copy)) {
      FUZZ_ASSERT(zt::Uncompress(copy).ok());
      FUZZ_ASSERT(copy == packet);
    }
  }
}

void AsReceived(std::string packet) {
  if (!zt::ParseHeader(packet).ok()) return;
  auto hello = zt::ParseHello(packet);
  if (hello.ok()) {
    std::string copy = packet;
    zt::CryptHelloTail(copy, hello->tail_offset, FixedKey());
  }
  if (zt::Dearmor(packet, FixedKey()).ok()) ParsePlaintext(packet);
}

void ArmoredByUs(std::string packet, int cipher) {
  if (packet.size() < zt::kPacketBytesMin || packet.size() > zt::kPacketBytesMax) return;
  const std::string plain = packet;
  zt::Armor(packet, FixedKey(), cipher);
  FUZZ_ASSERT(zt::Dearmor(packet, FixedKey()).ok());
  FUZZ_ASSERT(packet.substr(zt::kVerbOffset) == plain.substr(zt::kVerbOffset));
  ParsePlaintext(packet);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string packet(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    ArmoredByUs(std::move(packet), (data[0] >> 1) & 1);
  } else {
    AsReceived(std::move(packet));
  }
  return 0;
}
