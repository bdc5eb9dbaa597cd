// Fuzzes zt::InetAddress: the text form (planet files, API and config fields) and the
// wire form (HELLO, planets). The first byte picks the form. Properties: no crash; what
// parses renders back to text and wire forms that parse to the same address.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ctl/zt/inet_address.h"
#include "ctl/zt/wire.h"
#include "fuzz/fuzz_check.h"

namespace {

using almanac::zt::InetAddress;

void CheckRoundTrips(const InetAddress& address) {
  std::string wire;
  almanac::zt::AppendInetAddress(wire, address);
  almanac::zt::Reader reader(wire);
  auto back = almanac::zt::ReadInetAddress(reader);
  FUZZ_ASSERT(back.ok() && *back == address && reader.remaining() == 0);
  if (address.is_none()) return;
  auto text = InetAddress::FromString(address.ToString());
  FUZZ_ASSERT(text.ok() && *text == address);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    almanac::zt::Reader reader(input);
    while (reader.ok() && reader.remaining() > 0) {
      auto address = almanac::zt::ReadInetAddress(reader);
      if (!address.ok()) break;
      CheckRoundTrips(*address);
    }
  } else {
    auto address = InetAddress::FromString(input);
    if (address.ok()) CheckRoundTrips(*address);
  }
  return 0;
}
