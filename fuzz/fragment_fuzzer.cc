// Fuzzes zt::Reassembler, fed a stream of datagrams from a few sources. The input is a
// sequence of records: source(1, low 2 bits used) | milliseconds since the previous
// datagram(1) | length(2, big-endian, capped by what is left) | datagram bytes.
// Properties: no crash; pending packets stay within kReassemblyPacketsMax; a returned
// packet is at most kPacketBytesMax bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/limits.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace zt = almanac::zt;
  static const char* const kSources[] = {"10.0.0.1/9993", "10.0.0.2/9993", "[fd00::1]/1",
                                         "10.0.0.1/9994"};
  zt::Reassembler reassembler;
  absl::Time now = absl::FromUnixSeconds(1795818875);
  size_t at = 0;
  while (at + 4 <= size) {
    const char* source = kSources[data[at] & 3];
    now += absl::Milliseconds(data[at + 1]);
    size_t length = (size_t{data[at + 2]} << 8) | data[at + 3];
    at += 4;
    if (length > size - at) length = size - at;
    const std::string_view datagram(reinterpret_cast<const char*>(data) + at, length);
    at += length;
    auto packet = reassembler.Add(source, datagram, now);
    if (packet.has_value()) FUZZ_ASSERT(packet->size() <= zt::kPacketBytesMax);
    FUZZ_ASSERT(reassembler.packets_pending() <= zt::kReassemblyPacketsMax);
  }
  return 0;
}
