// Test helpers for the ctl/zt wire codec tests: hex, the captured exchanges in
// shared/vectors/zerotier-1.14.1, and the pair keys recorded with them. Test-only.
#ifndef ALMANAC_CTL_ZT_WIRE_TESTING_H_
#define ALMANAC_CTL_ZT_WIRE_TESTING_H_

#include <string>
#include <string_view>

#include "ctl/zt/packet.h"
#include "nlohmann/json.hpp"

namespace almanac::zt::testing {

// Decodes lower- or upper-case hex; fails the calling test on bad input.
std::string FromHex(std::string_view hex);
std::string ToHex(std::string_view bytes);

// Parses <vectors>/<relative> (e.g. "exchange.json", "fragmented/exchange.json");
// fails the calling test and returns a null json when it cannot.
nlohmann::json LoadVectorJson(const std::string& relative);

// The key48 recorded in exchange["pair_keys"] for the pair of 10-hex-digit addresses
// (either order); fails the calling test when there is none.
Key48 PairKey(const nlohmann::json& exchange, const std::string& a, const std::string& b);

}  // namespace almanac::zt::testing

#endif  // ALMANAC_CTL_ZT_WIRE_TESTING_H_
