// IP addresses and prefixes as the controller API and the netconf encoder see them.
//
// IpAddress is an IPv4 or IPv6 address (16 bytes of storage plus a family); IpPrefix is
// an address plus a prefix length ("10.147.20.0/24"). Parsing is strict, so the admin API
// can refuse what ZeroTier's own controller would silently turn into 0.0.0.0:
//   - IPv4: exactly four decimal parts 0..255, no leading zeros ("010.1.1.1" is refused,
//     it means octal to some parsers), no signs, no spaces, no hex.
//   - IPv6: RFC 4291 text (including "::" and a trailing dotted IPv4 part); no zone id
//     ("%eth0"), no brackets, no spaces.
//   - Prefix length: decimal without leading zeros, 0..32 for IPv4 and 0..128 for IPv6.
// Formatting is canonical: IPv4 dotted decimal, IPv6 as RFC 5952 (lower case, longest run
// of zero groups compressed), which is what inet_ntop gives and so what ZeroTier prints.
//
// An IpPrefix keeps its address as given, host bits included ("10.147.20.1/24" stays so),
// because ZeroTier stores and sends route targets unmasked; Masked() gives the network.
//
// Value types: pure, no I/O; safe to copy and use from any thread.
#ifndef ALMANAC_CTL_NET_IP_H_
#define ALMANAC_CTL_NET_IP_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "absl/status/statusor.h"

namespace almanac::net {

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

inline constexpr int kIpv4Bits = 32;
inline constexpr int kIpv6Bits = 128;
// Longest text either parser looks at: an IPv6 address with an embedded IPv4 part
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 45) plus "/128". Longer input is
// refused before parsing, so hostile megabyte strings cost nothing.
inline constexpr size_t kIpTextBytesMax = 49;

class IpAddress {
 public:
  // The IPv4 address 0.0.0.0. (A default exists so the type fits in containers.)
  IpAddress() = default;

  // IPv4 from its 32-bit value in host order (10.147.20.46 is 0x0a93142e).
  static IpAddress V4(uint32_t value);
  // IPv6 from its 16 bytes in network order.
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);

  // Parses an address without a prefix length. InvalidArgument with a reason otherwise
  // ("not an IPv4 or IPv6 address: ...", "IPv4 part 2 has a leading zero: ...", ...).
  static absl::StatusOr<IpAddress> Parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  // 32 or 128.
  int bits_max() const { return is_v4() ? kIpv4Bits : kIpv6Bits; }

  // The IPv4 value in host order. REQUIRES: is_v4().
  uint32_t v4() const;
  // Network-order bytes: all 16 for IPv6; for IPv4 the first 4 (the rest are zero).
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  // Canonical text: "10.147.20.46", "fd94:9cb9:5e9d:7cee:f999:9373:d8c8:d12f", "fc00::1".
  std::string ToString() const;

  // This address with every bit past the first `bits` cleared.
  // REQUIRES: 0 <= bits <= bits_max().
  IpAddress MaskedTo(int bits) const;

  // Orders IPv4 before IPv6, then by value (numeric order).
  friend bool operator<(const IpAddress& a, const IpAddress& b) {
    return std::tie(a.family_, a.bytes_) < std::tie(b.family_, b.bytes_);
  }
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.family_, a.bytes_);
  }

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class IpPrefix {
 public:
  // 0.0.0.0/0.
  IpPrefix() = default;

  // InvalidArgument when bits is outside 0..address.bits_max()
  // ("prefix length 33 out of range for IPv4").
  static absl::StatusOr<IpPrefix> Make(const IpAddress& address, int bits);

  // Parses "address/bits"; the "/bits" part is required. InvalidArgument with a reason.
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int bits() const { return bits_; }
  IpFamily family() const { return address_.family(); }

  // The network: the address with its host bits cleared ("10.147.20.0/24").
  IpPrefix Masked() const;
  // True when the address has bits set past the prefix ("10.147.20.1/24").
  bool HasHostBits() const { return address_ != address_.MaskedTo(bits_); }

  // True when `ip` has the same family and agrees with this prefix's network on the
  // first bits() bits (host bits of this prefix's address are ignored). /0 contains
  // every address of its family.
  bool Contains(const IpAddress& ip) const;

  // "address/bits", the address as stored (not masked).
  std::string ToString() const;

  friend bool operator<(const IpPrefix& a, const IpPrefix& b) {
    return std::tie(a.address_, a.bits_) < std::tie(b.address_, b.bits_);
  }
  friend bool operator==(const IpPrefix& a, const IpPrefix& b) {
    return a.address_ == b.address_ && a.bits_ == b.bits_;
  }
  friend bool operator!=(const IpPrefix& a, const IpPrefix& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const IpPrefix& p) {
    return H::combine(std::move(h), p.address_, p.bits_);
  }

 private:
  IpPrefix(const IpAddress& address, int bits) : address_(address), bits_(bits) {}

  IpAddress address_;
  int bits_ = 0;
};

}  // namespace almanac::net

#endif  // ALMANAC_CTL_NET_IP_H_
