// ZeroTier addresses: 40-bit node ids, written as 10 lower-case hex digits and carried as
// 5 big-endian bytes on the wire (shared/docs/zerotier-protocol.md §1).
//
// Pure functions; safe from any thread.
#ifndef ALMANAC_CTL_ZT_ADDRESS_H_
#define ALMANAC_CTL_ZT_ADDRESS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace almanac::zt {

inline constexpr size_t kAddressBytes = 5;
inline constexpr size_t kAddressHexDigits = 10;
// Addresses whose first byte is 0xff are reserved (broadcast-like), and 0 means "none".
inline constexpr uint64_t kAddressReservedPrefix = 0xff;

// True for 0 and for any address whose top byte is 0xff: never a node's address.
// Bits above the low 40 make it reserved too.
bool IsReservedAddress(uint64_t address);

// The 10-digit lower-case hex form, zero-padded ("00000000ab"). Only the low 40 bits count.
std::string AddressToString(uint64_t address);

// Parses exactly 10 hex digits (either case accepted, like zerotier-idtool) into an address.
// InvalidArgument (with a reason) for any other length, a non-hex digit, or a reserved
// address (0, or ff as the first byte).
absl::StatusOr<uint64_t> ParseAddress(std::string_view hex10);

// Wire form: 5 bytes, big-endian. REQUIRES: `bytes` points at kAddressBytes readable bytes.
uint64_t AddressFromBytes(const uint8_t* bytes);
// REQUIRES: `out` points at kAddressBytes writable bytes. Only the low 40 bits are written.
void AddressToBytes(uint64_t address, uint8_t* out);

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_ADDRESS_H_
