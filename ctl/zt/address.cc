#include "ctl/zt/address.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace almanac::zt {
namespace {

// Local name: packet.h defines the same mask publicly, and both headers may meet in one file.
constexpr uint64_t kAddressBits40 = 0xffffffffffULL;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsReservedAddress(uint64_t address) {
  return address == 0 || (address >> 32) >= kAddressReservedPrefix;
}

std::string AddressToString(uint64_t address) {
  return absl::StrFormat("%010x", address & kAddressBits40);
}

absl::StatusOr<uint64_t> ParseAddress(std::string_view hex10) {
  if (hex10.size() != kAddressHexDigits) {
    return absl::InvalidArgumentError(
        absl::StrCat("address must be exactly 10 hex digits, got ", hex10.size(), " characters"));
  }
  uint64_t address = 0;
  for (char c : hex10) {
    int v = HexValue(c);
    if (v < 0) {
      return absl::InvalidArgumentError(absl::StrCat("address \"",
                                                     absl::string_view(hex10.data(), hex10.size()),
                                                     "\" has a non-hex character"));
    }
    address = (address << 4) | static_cast<uint64_t>(v);
  }
  if (IsReservedAddress(address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", AddressToString(address), " is reserved (0 or starting with ff)"));
  }
  return address;
}

uint64_t AddressFromBytes(const uint8_t* bytes) {
  uint64_t address = 0;
  for (size_t i = 0; i < kAddressBytes; ++i) address = (address << 8) | bytes[i];
  return address;
}

void AddressToBytes(uint64_t address, uint8_t* out) {
  for (size_t i = 0; i < kAddressBytes; ++i) {
    out[i] = static_cast<uint8_t>(address >> (8 * (kAddressBytes - 1 - i)));
  }
}

}  // namespace almanac::zt
