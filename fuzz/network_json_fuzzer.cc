// Fuzzes a POST body for /controller/network/<nwid> the way the API server handles it:
// ParseBodyObject, ParseNetworkPatch, then apply the patch to a default config and render
// it. Property: no crash; rendering the applied config never throws.
#include <cstddef>
#include <cstdint>

#include "ctl/api/network_json.h"
#include "fuzz/api_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace api = almanac::api;
  auto body = almanac::fuzz::ParseBody(data, size);
  if (!body) return 0;
  auto patch = api::ParseNetworkPatch(*body);
  if (!patch.ok()) return 0;
  const almanac::state::NetworkConfig old;
  const almanac::state::NetworkConfig updated = api::ApplyNetworkPatch(old, *patch);
  (void)api::RenderNetworkConfig(updated).dump();
  (void)api::DiffNetworkConfig(old, updated);
  return 0;
}
