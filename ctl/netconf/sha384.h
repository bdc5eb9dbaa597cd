// SHA-384 (FIPS 180-4), which the certificate of membership needs (§5: qualifiers 3-6 are
// SHA-384(address || public key)[0:32]) and libsodium 1.0.18 does not provide.
// Pure; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_SHA384_H_
#define ALMANAC_CTL_NETCONF_SHA384_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace almanac::netconf {

inline constexpr size_t kSha384Bytes = 48;

std::array<uint8_t, kSha384Bytes> Sha384(const uint8_t* data, size_t size);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_SHA384_H_
