// Planet and moon files ("worlds"): the signed list of root servers a node talks to
// first (shared/docs/zerotier-protocol.md §3 "Planet file layout", §1 signatures).
//
// Layout: type(1: 1 planet, 127 moon) | id(8) | timestamp(8) | update signing key(64) |
// signature(96) | root count(1) | per root: binary identity + endpoint count(1) +
// InetAddresses | moons only: length(2) + that many bytes (written as 0).
// The signature (96-byte form: Ed25519 over SHA-512(message)[0:32], then those 32
// bytes) covers `7f x8 | the same fields without the signature | f7 x8`.
// Pure functions; thread-safe.
#ifndef ALMANAC_CTL_ZT_PLANET_H_
#define ALMANAC_CTL_ZT_PLANET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <string_view>
#include "ctl/zt/inet_address.h"
#include "ctl/zt/messages.h"

namespace almanac::zt {

struct WorldRoot {
  IdentityBytes identity;  // Not validated (address derivation): see identity.h.
  std::vector<InetAddress> endpoints;
};

struct World {
  enum class Type : uint8_t { kPlanet = 1, kMoon = 127 };

  Type type = Type::kPlanet;
  uint64_t id = 0;
  uint64_t timestamp = 0;
  // X25519 public (32) then Ed25519 public (32); updates must be signed by it.
  std::array<uint8_t, 64> update_signing_key{};
  std::array<uint8_t, 96> signature{};
  std::vector<WorldRoot> roots;
  // The exact bytes the signature covers: 7f x8 | fields but the signature | f7 x8.
  std::string signed_bytes;
};

// Parses a planet or moon file.
// InvalidArgument: truncated, unknown type, a bad root identity or address, or bytes
// left over. ResourceExhausted: over kWorldBytesMax, more than kWorldRootsMax roots or
// kWorldRootEndpointsMax endpoints per root.
absl::StatusOr<World> ParseWorld(std::string_view bytes);

// Checks world.signature over world.signed_bytes with the Ed25519 half of
// `signing_key` (the current world's update_signing_key; a world file checks against
// its own key on first load, a later update against the key of the world it replaces).
// DataLoss when it does not verify.
absl::Status VerifyWorld(const World& world, const std::array<uint8_t, 64>& signing_key);

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_PLANET_H_
