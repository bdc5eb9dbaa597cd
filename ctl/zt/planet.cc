#include "ctl/zt/planet.h"

#include <sodium.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/zt/limits.h"
#include "ctl/zt/wire.h"

namespace almanac::zt {
namespace {

constexpr size_t kSignatureOffset = 1 + 8 + 8 + 64;
constexpr size_t kWorldSignatureBytes = 96;

absl::Status ReadRoots(Reader& r, World& world) {
  uint8_t root_count = 0;
  if (!r.ReadU8(&root_count)) return absl::InvalidArgumentError("world truncated");
  if (root_count > kWorldRootsMax) {
    return absl::ResourceExhaustedError(absl::StrCat("world has ", root_count, " roots"));
  }
  for (size_t i = 0; i < root_count; ++i) {
    WorldRoot root;
    absl::StatusOr<IdentityBytes> identity = ReadIdentityBytes(r);
    if (!identity.ok()) return identity.status();
    root.identity = *identity;
    uint8_t endpoint_count = 0;
    if (!r.ReadU8(&endpoint_count)) return absl::InvalidArgumentError("world truncated");
    if (endpoint_count > kWorldRootEndpointsMax) {
      return absl::ResourceExhaustedError("world root has too many endpoints");
    }
    for (size_t j = 0; j < endpoint_count; ++j) {
      absl::StatusOr<InetAddress> endpoint = ReadInetAddress(r);
      if (!endpoint.ok()) return endpoint.status();
      root.endpoints.push_back(*endpoint);
    }
    world.roots.push_back(std::move(root));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<World> ParseWorld(std::string_view bytes) {
  if (bytes.size() > kWorldBytesMax) {
    return absl::ResourceExhaustedError("world file exceeds kWorldBytesMax");
  }
  Reader r(bytes);
  World world;
  uint8_t type = 0;
  std::string_view key;
  std::string_view signature;
  if (!r.ReadU8(&type) || !r.ReadU64(&world.id) || !r.ReadU64(&world.timestamp) ||
      !r.ReadBytes(64, &key) || !r.ReadBytes(kWorldSignatureBytes, &signature)) {
    return absl::InvalidArgumentError("world truncated");
  }
  if (type != 1 && type != 127) {
    return absl::InvalidArgumentError(absl::StrCat("world type ", type, " unknown"));
  }
  world.type = static_cast<World::Type>(type);
  std::memcpy(world.update_signing_key.data(), key.data(), 64);
  std::memcpy(world.signature.data(), signature.data(), kWorldSignatureBytes);
  if (absl::Status s = ReadRoots(r, world); !s.ok()) return s;
  if (world.type == World::Type::kMoon) {
    uint16_t extra = 0;
    if (!r.ReadU16(&extra) || !r.Skip(extra)) {
      return absl::InvalidArgumentError("moon truncated");
    }
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("world has ", r.remaining(),
                                                   " bytes after its last field"));
  }
  world.signed_bytes.assign(8, '\x7f');
  world.signed_bytes.append(bytes.substr(0, kSignatureOffset));
  world.signed_bytes.append(bytes.substr(kSignatureOffset + kWorldSignatureBytes));
  world.signed_bytes.append(8, '\xf7');
  return world;
}

absl::Status VerifyWorld(const World& world, const std::array<uint8_t, 64>& signing_key) {
  // sodium_init is idempotent and thread-safe.
  ALMANAC_CHECK(sodium_init() >= 0);
  unsigned char digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(digest, reinterpret_cast<const unsigned char*>(world.signed_bytes.data()),
                     world.signed_bytes.size());
  // The 96-byte form carries the digest it signed: it must be this message's.
  if (sodium_memcmp(digest, world.signature.data() + 64, 32) != 0) {
    return absl::DataLossError("world signature is for another message");
  }
  if (crypto_sign_ed25519_verify_detached(world.signature.data(), digest, 32,
                                          signing_key.data() + 32) != 0) {
    return absl::DataLossError("world signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace almanac::zt
