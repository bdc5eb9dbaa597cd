// Fuzzes ctl/net/rules: the first byte picks the input form.
//   even: JSON text of a rules array (read through the API's body reader as
//         {"rules": ...}); ValidateRules, CompileRules and CanonicalRulesJson.
//   odd:  the wire form (as stored and sent in configs); DecodeRules.
// Properties: Validate and Compile agree; compiled rules decode and compile back to the
// same bytes; canonical JSON compiles to the same bytes; decoded wire rules either
// compile to a form that decodes the same or are refused with InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ctl/net/rules.h"
#include "fuzz/api_body.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace net = almanac::net;

void FromJson(const uint8_t* data, size_t size) {
  std::string text = "{\"rules\":";
  text.append(reinterpret_cast<const char*>(data), size);
  text += "}";
  auto body = almanac::fuzz::ParseBody(reinterpret_cast<const uint8_t*>(text.data()),
                                       text.size());
  if (!body) return;
  const nlohmann::json& rules = (*body)["rules"];
  const bool valid = net::ValidateRules(rules).ok();
  auto wire = net::CompileRules(rules);
  FUZZ_ASSERT(valid == wire.ok());
  if (!wire.ok()) return;
  auto decoded = net::DecodeRules(*wire);
  FUZZ_ASSERT(decoded.ok());
  auto recompiled = net::CompileRules(*decoded);
  FUZZ_ASSERT(recompiled.ok() && *recompiled == *wire);
  auto canonical = net::CanonicalRulesJson(rules);
  FUZZ_ASSERT(canonical.ok());
  auto from_canonical = net::CompileRules(*canonical);
  FUZZ_ASSERT(from_canonical.ok() && *from_canonical == *wire);
}

void FromWire(std::string_view wire) {
  auto decoded = net::DecodeRules(wire);
  if (!decoded.ok()) return;
  // DecodeRules checks framing only (its contract): a range with start > end decodes
  // but is refused by CompileRules. Only a clean refusal is allowed then.
  auto compiled = net::CompileRules(*decoded);
  if (!compiled.ok()) {
    FUZZ_ASSERT(absl::IsInvalidArgument(compiled.status()));
    return;
  }
  auto again = net::DecodeRules(*compiled);
  FUZZ_ASSERT(again.ok() && *again == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    FromWire(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } else {
    FromJson(data + 1, size - 1);
  }
  return 0;
}
