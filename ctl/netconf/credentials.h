// The signed credentials a controller puts in a netconf (shared/docs/zerotier-protocol.md
// §5): the certificate of membership (`C`), certificates of ownership (`COO`) and tags
// (`TAG`). Each is built from plain values and signed by the controller's identity.
//
// Certificate of membership: 0x01 | count(2) | count x (id(8), value(8), max delta(8)) |
// signer address(5) | signature(96), the signature over the concatenated triples only.
// Ownership and tags are signed over `7f x8 | body | 0x0000 | 7f x8` and carry
// `signature type 1 | length(2) = 96 | signature | extension length(2) = 0` after the body.
// Pure; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_CREDENTIALS_H_
#define ALMANAC_CTL_NETCONF_CREDENTIALS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/net/ip.h"
#include "ctl/zt/identity.h"

namespace almanac::netconf {

inline constexpr size_t kComQualifierCount = 7;
inline constexpr size_t kComQualifierBytes = 24;

// The 7 qualifiers a 1.14 controller issues: (0, timestamp, ctmd), (1, nwid, 0),
// (2, member address, all ones), (3..6, the 64-bit words of
// SHA-384(address(5) || public(64))[0:32], all ones).
// REQUIRES: controller.has_secret().
std::string BuildMembershipCertificate(uint64_t nwid, uint64_t member_address,
                                       const std::array<uint8_t, 64>& member_public,
                                       int64_t timestamp_ms, uint64_t max_delta_ms,
                                       const zt::Identity& controller);

// A parsed certificate of membership (for tests and the simulated node).
struct MembershipCertificate {
  struct Qualifier {
    uint64_t id, value, max_delta;
  };
  std::vector<Qualifier> qualifiers;
  uint64_t signer = 0;
  std::string signed_bytes;  // the triples
  std::string signature;     // 96 bytes
};
// InvalidArgument on a bad version byte, truncation or more than 16 qualifiers.
absl::StatusOr<MembershipCertificate> ParseMembershipCertificate(std::string_view bytes);

// One certificate of ownership over `ips` (at most kOwnershipThingsMax; extra are left out)
// issued to `member_address`, id 1, flags 0. REQUIRES: controller.has_secret().
std::string BuildOwnershipCertificate(uint64_t nwid, int64_t timestamp_ms,
                                      uint64_t member_address,
                                      const std::vector<net::IpAddress>& ips,
                                      const zt::Identity& controller);

// One tag (id, value) issued to `member_address`. REQUIRES: controller.has_secret().
std::string BuildTag(uint64_t nwid, int64_t timestamp_ms, uint32_t id, uint32_t value,
                     uint64_t member_address, const zt::Identity& controller);

// For a credential laid out as body | 01 | 0060 | signature(96) | 0000 (ownership, tag):
// the bytes its signature covers and the signature. InvalidArgument when the tail is not
// of that shape. `body_bytes` is the length of the body (it depends on the credential).
absl::Status CheckCredentialSignature(std::string_view credential, size_t body_bytes,
                                      const zt::Identity& signer);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_CREDENTIALS_H_
