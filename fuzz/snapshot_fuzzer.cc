// Fuzzes state::DeserializeState (snapshot payloads as read from disk: a damaged or
// foreign snapshot must be refused, never trusted). Property: what loads serializes to
// bytes that load again and serialize the same (canonical form is a fixed point).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ctl/state/snapshot.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copied so the payload is 8-byte aligned, as a loaded snapshot is.
  const std::string payload(reinterpret_cast<const char*>(data), size);
  auto state = almanac::state::DeserializeState(payload);
  if (!state.ok()) return 0;
  const std::string once = almanac::state::SerializeState(*state);
  auto again = almanac::state::DeserializeState(once);
  FUZZ_ASSERT(again.ok());
  FUZZ_ASSERT(almanac::state::SerializeState(*again) == once);
  return 0;
}
