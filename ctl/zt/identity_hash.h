// The memory-hard hash that binds a ZeroTier address to a public key
// (shared/docs/zerotier-protocol.md §1, "Address derivation"). Internal to identity.cc and
// its tests and benchmarks; callers use Identity::Validate and Identity::Generate.
//
// Thread safety: each call allocates its own 2 MiB scratch buffer; safe from any thread.
#ifndef ALMANAC_CTL_ZT_IDENTITY_HASH_H_
#define ALMANAC_CTL_ZT_IDENTITY_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace almanac::zt {

// Sizes fixed by the protocol.
inline constexpr size_t kIdentityHashScratchBytes = 2 * 1024 * 1024;
// A public key is acceptable only if the first digest byte is below this.
inline constexpr uint8_t kIdentityHashDigestFirstByteLimit = 17;

struct IdentityHashResult {
  // digest[0] < kIdentityHashDigestFirstByteLimit: the key may carry an address at all.
  bool acceptable = false;
  uint8_t digest_first_byte = 0;
  // digest[59..63], big-endian. May be reserved; callers check that separately.
  uint64_t address = 0;
};

// Runs the derivation over the 64-byte public key (X25519 public || Ed25519 public).
IdentityHashResult ComputeIdentityHash(const std::array<uint8_t, 64>& public_key);

// Calls sodium_init() once per process; aborts if libsodium cannot start.
void EnsureSodiumInitialized();

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_IDENTITY_HASH_H_
