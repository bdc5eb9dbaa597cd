// Fuzzes zt::Identity::FromString and FromBinary (identities from files, the API, HELLO
// and planets). Validate (the 20 ms memory-hard check) is left out on purpose: it is a
// fixed computation over a parsed key, not a parser. The first byte picks the form.
// Properties: no crash; what parses writes back (text and binary) to the same identity.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "ctl/zt/identity.h"
#include "fuzz/fuzz_check.h"

namespace {

using almanac::zt::Identity;

void CheckRoundTrips(const Identity& id) {
  for (bool secret : {false, true}) {
    const std::string text = id.ToString(secret);
    auto from_text = Identity::FromString(text);
    FUZZ_ASSERT(from_text.ok() && from_text->ToString(secret) == text);
    const std::string binary = id.ToBinary(secret);
    size_t consumed = 0;
    auto from_binary = Identity::FromBinary(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(binary.data()), binary.size()),
        &consumed);
    FUZZ_ASSERT(from_binary.ok() && consumed == binary.size());
    FUZZ_ASSERT(from_binary->ToString(secret) == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    size_t consumed = 0;
    auto id = Identity::FromBinary(absl::MakeConstSpan(data + 1, size - 1), &consumed);
    if (!id.ok()) return 0;
    FUZZ_ASSERT(consumed <= size - 1);
    CheckRoundTrips(*id);
  } else {
    auto id =
        Identity::FromString(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    if (id.ok()) CheckRoundTrips(*id);
  }
  return 0;
}
