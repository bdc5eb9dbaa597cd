// Internal to ctl/net rules: the table of rule types (JSON name, wire code, data length)
// shared by the compiler (rules.cc) and the decoder (rules_decode.cc).
#ifndef ALMANAC_CTL_NET_RULE_TABLE_H_
#define ALMANAC_CTL_NET_RULE_TABLE_H_

#include <cstdint>
#include <string_view>

#include "ctl/net/rules.h"

namespace almanac::net::internal {

struct RuleTypeInfo {
  std::string_view name;  // The JSON "type".
  RuleType type;
  uint8_t data_bytes;     // Exact length of the wire data.
};

// nullptr when unknown. ACTION_PRIORITY is not in the table (see rules.h).
const RuleTypeInfo* FindRuleType(std::string_view name);
const RuleTypeInfo* FindRuleType(uint8_t type_code);

inline bool IsAction(RuleType t) { return static_cast<uint8_t>(t) <= 15; }

}  // namespace almanac::net::internal

#endif  // ALMANAC_CTL_NET_RULE_TABLE_H_
