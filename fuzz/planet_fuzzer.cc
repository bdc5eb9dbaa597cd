// Fuzzes zt::ParseWorld (planet and moon files, and worlds pushed by peers) and checks
// the parsed signature against the world's own key, as a first load does.
// Properties: no crash; a parsed world keeps to kWorldRootsMax.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctl/zt/limits.h"
#include "ctl/zt/planet.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto world = almanac::zt::ParseWorld(bytes);
  if (!world.ok()) return 0;
  FUZZ_ASSERT(world->roots.size() <= almanac::zt::kWorldRootsMax);
  (void)almanac::zt::VerifyWorld(*world, world->update_signing_key);
  return 0;
}
