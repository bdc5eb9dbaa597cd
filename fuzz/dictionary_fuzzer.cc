// Fuzzes zt::Dictionary::Parse (NETWORK_CONFIG_REQUEST metadata from any node).
// Properties: parsing never crashes; a parsed dictionary stays within its limits, and
// its encoding parses back to the same entries.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctl/zt/dictionary.h"
#include "ctl/zt/limits.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using almanac::zt::Dictionary;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = Dictionary::Parse(input);
  if (!parsed.ok()) return 0;
  FUZZ_ASSERT(parsed->size() <= almanac::zt::kDictionaryKeysMax);
  for (const auto& [key, value] : parsed->entries()) {
    (void)parsed->GetUint64(key);
    (void)parsed->GetBool(key);
  }
  const std::string encoded = parsed->Encode();
  FUZZ_ASSERT(encoded.size() == parsed->encoded_bytes());
  auto again = Dictionary::Parse(encoded);
  FUZZ_ASSERT(again.ok());
  FUZZ_ASSERT(again->entries() == parsed->entries());
  return 0;
}
