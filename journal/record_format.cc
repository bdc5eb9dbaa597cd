#include "journal/record_format.h"

#include <sodium.h>

#include "base/check.h"

namespace almanac::journal {

std::string RecordKey(uint64_t seq) {
  ALMANAC_CHECK(seq >= 1);
  ALMANAC_CHECK(seq <= kSeqMax);
  std::string key(kRecordKeyBytes, '\0');
  for (size_t i = 0; i < kRecordKeyBytes; ++i) {
    key[kRecordKeyBytes - 1 - i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  }
  return key;
}

uint64_t DecodeBigEndian64(std::string_view bytes) {
  ALMANAC_CHECK(bytes.size() == 8);
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

ChainHash ComputeChainHash(const ChainHash& prev_hash, std::string_view record_bytes) {
  // sodium_init is idempotent and thread-safe; crypto_generichash itself needs no init,
  // but calling it once keeps to the house rule.
  static const bool sodium_ready = sodium_init() >= 0;
  ALMANAC_CHECK(sodium_ready);
  crypto_generichash_state state;
  ChainHash out;
  ALMANAC_CHECK(crypto_generichash_init(&state, nullptr, 0, out.size()) == 0);
  ALMANAC_CHECK(crypto_generichash_update(&state, prev_hash.data(), prev_hash.size()) == 0);
  ALMANAC_CHECK(crypto_generichash_update(
                    &state, reinterpret_cast<const unsigned char*>(record_bytes.data()),
                    record_bytes.size()) == 0);
  ALMANAC_CHECK(crypto_generichash_final(&state, out.data(), out.size()) == 0);
  return out;
}

std::string StoredValue(std::string_view record_bytes, const ChainHash& chain_hash) {
  std::string value;
  value.reserve(record_bytes.size() + chain_hash.size());
  value.append(record_bytes);
  value.append(reinterpret_cast<const char*>(chain_hash.data()), chain_hash.size());
  return value;
}

std::string HashHex(const ChainHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(hash.size() * 2);
  for (uint8_t b : hash) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 0xf]);
  }
  return hex;
}

}  // namespace almanac::journal
