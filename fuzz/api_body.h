// The admin API's body reader, shared by the network and member body fuzz targets:
// ParseBodyObject (depth check before the JSON parser, as the server does). Test-only.
#ifndef ALMANAC_FUZZ_API_BODY_H_
#define ALMANAC_FUZZ_API_BODY_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "ctl/api/json_fields.h"
#include "nlohmann/json.hpp"

namespace almanac::fuzz {

inline std::optional<nlohmann::json> ParseBody(const uint8_t* data, size_t size) {
  auto body = api::ParseBodyObject(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!body.ok()) return std::nullopt;
  return *std::move(body);
}

}  // namespace almanac::fuzz

#endif  // ALMANAC_FUZZ_API_BODY_H_
