// The signed credentials a controller puts in a netconf (shared/docs/zerotier-protocol.md
// §5): the certificate of membership (`C`), certificates of ownership (`COO`) and tags
// (`TAG`). Each is built from plain values and signed by the controller's identity.
//
// Capability (ZeroTier One 1.14.1 node/Capability.hpp): nwid(8) | timestamp(8) | id(4) |
// rule count(2) | rules (ctl/net/rules.h wire form) | max custody chain length(1) = 1 |
// custody: to(5) | from(5) | 01 | 0060 | signature(96) | 00 x5 (end of chain) |
// extension length(2) = 0. Signed over 7f x8 | nwid .. max custody length | 0000 | 7f x8.
// Tag: nwid(8) | timestamp(8) | id(4) | value(4) | issued to(5) | signed by(5) | 01 | 0060 |
// signature(96) | 0000, signed over 7f x8 | nwid .. signed by | 0000 | 7f x8.
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

// One capability issued to `member_address`, custody chain length 1 (not transferable),
// as ZeroTier's controller issues them. `rules_wire` holds exactly `rule_count` rules.
// REQUIRES: controller.has_secret(), rule_count <= 0xffff.
std::string BuildCapability(uint64_t nwid, int64_t timestamp_ms, uint32_t id,
                            std::string_view rules_wire, size_t rule_count,
                            uint64_t member_address, const zt::Identity& controller);

// Parsed credentials (for tests and the simulated node): the fields, the exact bytes the
// signature covers (framing included) and the signature.
struct CapabilityCredential {
  uint64_t nwid = 0;
  uint64_t timestamp_ms = 0;
  uint32_t id = 0;
  uint16_t rule_count = 0;
  std::string rules_wire;
  uint8_t max_custody = 0;
  uint64_t issued_to = 0;  // custody[0].to
  uint64_t signer = 0;     // custody[0].from
  std::string signed_bytes;
  std::string signature;
};
struct TagCredential {
  uint64_t nwid = 0;
  uint64_t timestamp_ms = 0;
  uint32_t id = 0;
  uint32_t value = 0;
  uint64_t issued_to = 0;
  uint64_t signer = 0;
  std::string signed_bytes;
  std::string signature;
};
// Parse one credential at the start of `bytes`; *used gets its length, so a `CAP` or `TAG`
// value (credentials back to back) is walked by calling again on the rest. InvalidArgument
// on truncation, a malformed rule list, a custody chain other than one link, or a
// signature that is not type 1 of 96 bytes.
absl::StatusOr<CapabilityCredential> ParseCapability(std::string_view bytes, size_t* used);
absl::StatusOr<TagCredential> ParseTag(std::string_view bytes, size_t* used);

// OK when `signature` is `signer`'s over `signed_bytes`; DataLoss otherwise.
absl::Status CheckSigned(std::string_view signed_bytes, std::string_view signature,
                         const zt::Identity& signer);

// For a credential laid out as body | 01 | 0060 | signature(96) | 0000 (ownership, tag):
// the bytes its signature covers and the signature. InvalidArgument when the tail is not
// of that shape. `body_bytes` is the length of the body (it depends on the credential).
absl::Status CheckCredentialSignature(std::string_view credential, size_t body_bytes,
                                      const zt::Identity& signer);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_CREDENTIALS_H_
