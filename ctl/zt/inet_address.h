// InetAddress: an IP address and port as ZeroTier puts it on the wire
// (shared/docs/zerotier-protocol.md §2 "InetAddress on the wire", §5 RT/I/DNS).
//
// Wire form: `0x00` (none) | `0x04 ip4(4) port(2)` | `0x06 ip6(16) port(2)`, port
// big-endian. Where a route or static IP is encoded, the port carries the prefix length.
// Text form: "ip/port" ("10.99.0.3/9993", "fd00::1/88"); the none address prints as "".
// A plain value type; thread-compatible.
#ifndef ALMANAC_CTL_ZT_INET_ADDRESS_H_
#define ALMANAC_CTL_ZT_INET_ADDRESS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include <string_view>
#include "ctl/zt/wire.h"

namespace almanac::zt {

struct InetAddress {
  enum class Family : uint8_t { kNone = 0, kIpv4 = 4, kIpv6 = 6 };

  Family family = Family::kNone;
  // IPv4 uses bytes[0..4); the rest stays zero so == compares values.
  std::array<uint8_t, 16> bytes{};
  uint16_t port = 0;

  static InetAddress Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
  static InetAddress Ipv6(const std::array<uint8_t, 16>& ip, uint16_t port);

  bool is_none() const { return family == Family::kNone; }

  // "ip/port", or "" for none.
  std::string ToString() const;

  // Parses "ip/port" (IPv4 dotted quad or IPv6 text, port 0..65535 in decimal).
  // InvalidArgument for anything else, including "".
  static absl::StatusOr<InetAddress> FromString(std::string_view text);

  friend bool operator==(const InetAddress& a, const InetAddress& b) {
    return a.family == b.family && a.bytes == b.bytes && a.port == b.port;
  }
  friend bool operator!=(const InetAddress& a, const InetAddress& b) { return !(a == b); }
};

// Appends the wire form (1, 7 or 19 bytes).
void AppendInetAddress(std::string& out, const InetAddress& address);

// Reads one wire-form address from the reader. InvalidArgument when truncated or the
// type byte is not 0x00, 0x04 or 0x06 (the reader is then not ok()).
absl::StatusOr<InetAddress> ReadInetAddress(Reader& reader);

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_INET_ADDRESS_H_
