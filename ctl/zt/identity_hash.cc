#include "ctl/zt/identity_hash.h"

#include <sodium.h>

#include <cstring>
#include <memory>
#include <utility>

#include "base/check.h"

namespace almanac::zt {
namespace {

constexpr size_t kBlockBytes = 64;  // one Salsa20 block
constexpr size_t kWordsPerBlock = kBlockBytes / 8;
constexpr size_t kScratchBlocks = kIdentityHashScratchBytes / kBlockBytes;  // 32768
constexpr size_t kScratchWords = kIdentityHashScratchBytes / 8;             // 262144
constexpr size_t kRounds = kScratchWords / 2;                               // 131072
// The per-round keystream does not depend on the data, so it is made in batches: one
// libsodium call per batch uses its vectorized Salsa20 instead of one call per block.
constexpr size_t kBatchBlocks = 128;
constexpr size_t kBatchBytes = kBatchBlocks * kBlockBytes;

uint64_t LoadBigEndian64(const uint64_t* word) {
  uint8_t b[8];
  std::memcpy(b, word, 8);
  uint64_t v = 0;
  for (uint8_t byte : b) v = (v << 8) | byte;
  return v;
}

}  // namespace

void EnsureSodiumInitialized() {
  static const bool initialized = sodium_init() >= 0;
  ALMANAC_CHECK_MSG(initialized, "sodium_init failed");
}

IdentityHashResult ComputeIdentityHash(const std::array<uint8_t, 64>& public_key) {
  EnsureSodiumInitialized();
  // Step 1: d = SHA-512(public). The digest is then mutated word by word, so it is kept as
  // raw 64-bit words (swaps move raw bytes; only the indices are read big-endian).
  uint64_t digest[kWordsPerBlock];
  crypto_hash_sha512(reinterpret_cast<uint8_t*>(digest), public_key.data(), public_key.size());
  // Salsa20/20 key and nonce are fixed from the initial digest.
  uint8_t key[crypto_stream_salsa20_KEYBYTES];
  uint8_t nonce[crypto_stream_salsa20_NONCEBYTES];
  std::memcpy(key, digest, sizeof(key));
  std::memcpy(nonce, reinterpret_cast<const uint8_t*>(digest) + 32, sizeof(nonce));

  // Steps 2-3: scratch = keystream blocks 0..32767, then each block XORed with the one
  // before it (a running XOR). Per call, so concurrent callers share nothing.
  std::unique_ptr<uint64_t[]> scratch(new uint64_t[kScratchWords]);
  uint8_t* scratch_bytes = reinterpret_cast<uint8_t*>(scratch.get());
  crypto_stream_salsa20(scratch_bytes, kIdentityHashScratchBytes, nonce, key);
  for (size_t i = kWordsPerBlock; i < kScratchWords; ++i) scratch[i] ^= scratch[i - kWordsPerBlock];

  // Step 4: 131072 rounds; round r reads words 2r and 2r+1, swaps one scratch word with
  // one digest word, then XORs the digest with keystream block 32768 + r.
  static const uint8_t kZeros[kBatchBytes] = {};
  uint64_t batch[kBatchBytes / 8];
  for (size_t round = 0; round < kRounds; ++round) {
    if (round % kBatchBlocks == 0) {
      crypto_stream_salsa20_xor_ic(reinterpret_cast<uint8_t*>(batch), kZeros, kBatchBytes, nonce,
                                   kScratchBlocks + round, key);
    }
    const size_t i1 = LoadBigEndian64(&scratch[2 * round]) % kWordsPerBlock;
    const size_t i2 = LoadBigEndian64(&scratch[2 * round + 1]) % kScratchWords;
    std::swap(scratch[i2], digest[i1]);
    const uint64_t* ks = &batch[(round % kBatchBlocks) * kWordsPerBlock];
    for (size_t w = 0; w < kWordsPerBlock; ++w) digest[w] ^= ks[w];
  }

  // Step 5.
  const uint8_t* d = reinterpret_cast<const uint8_t*>(digest);
  IdentityHashResult result;
  result.digest_first_byte = d[0];
  result.acceptable = d[0] < kIdentityHashDigestFirstByteLimit;
  for (size_t i = 59; i < 64; ++i) result.address = (result.address << 8) | d[i];
  return result;
}

}  // namespace almanac::zt
