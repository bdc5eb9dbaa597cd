// Fuzzes the NETWORK_CONFIG_REQUEST payload as the responder reads it: the fixed fields
// (zt::ParseConfigRequest), then its metadata dictionary. No crash; the metadata view
// lies inside the payload.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctl/zt/dictionary.h"
#include "ctl/zt/messages.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto request = almanac::zt::ParseConfigRequest(payload);
  if (!request.ok()) return 0;
  FUZZ_ASSERT(request->metadata.data() >= payload.data());
  FUZZ_ASSERT(request->metadata.data() + request->metadata.size() <=
              payload.data() + payload.size());
  (void)almanac::zt::Dictionary::Parse(request->metadata);
  return 0;
}
