// Fuzzes a POST body for /controller/network/<nwid>/member/<address> the way the API
// server handles it: ParseBodyObject, ParseMemberPatch, apply to a default config, render.
// Property: no crash; rendering the applied config never throws.
#include <cstddef>
#include <cstdint>

#include "ctl/api/member_json.h"
#include "fuzz/api_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace api = almanac::api;
  auto body = almanac::fuzz::ParseBody(data, size);
  if (!body) return 0;
  auto patch = api::ParseMemberPatch(*body);
  if (!patch.ok()) return 0;
  const almanac::state::MemberConfig old;
  const almanac::state::MemberConfig updated = api::ApplyMemberPatch(old, *patch);
  (void)api::RenderMemberConfig(updated).dump();
  (void)api::DiffMemberConfig(old, updated);
  return 0;
}
