// ZeroTier flow rules: the controller API's JSON form, validated and compiled to the wire
// form carried in the netconf `R` key and inside capabilities.
//
// Wire form (ZeroTier One 1.14.1, node/Capability.hpp), per rule:
//   type(1) | length(1) | data(length)
// The type byte's low 6 bits are the rule type (RuleType below), 0x80 is NOT and 0x40
// is OR. Data per type, integers big-endian:
//   ACTION_DROP, ACTION_ACCEPT, ACTION_BREAK         (none)
//   ACTION_TEE, ACTION_WATCH, ACTION_REDIRECT        address(8, low 40 bits) flags(4)
//                                                    length(2; 0 for REDIRECT)
//   MATCH_SOURCE/DEST_ZEROTIER_ADDRESS               address(5)
//   MATCH_VLAN_ID                                    vlan id(2)
//   MATCH_VLAN_PCP, MATCH_VLAN_DEI                   value(1)
//   MATCH_MAC_SOURCE, MATCH_MAC_DEST                 mac(6)
//   MATCH_IPV4_SOURCE, MATCH_IPV4_DEST               ip(4) prefix bits(1)
//   MATCH_IPV6_SOURCE, MATCH_IPV6_DEST               ip(16) prefix bits(1)
//   MATCH_IP_TOS                                     mask(1) start(1) end(1)
//   MATCH_IP_PROTOCOL                                protocol(1)
//   MATCH_ETHERTYPE                                  ethertype(2)
//   MATCH_ICMP                                       type(1) code(1) flags(1; 0x01 = code set)
//   MATCH_IP_SOURCE/DEST_PORT_RANGE                  start(2) end(2)
//   MATCH_CHARACTERISTICS                            mask(8)
//   MATCH_FRAME_SIZE_RANGE                           start(2) end(2)
//   MATCH_RANDOM                                     probability(4; of 0xffffffff)
//   MATCH_TAGS_*, MATCH_TAG_SENDER/RECEIVER          tag id(4) value(4)
//   INTEGER_RANGE                                    start(8) end(8, absolute) idx(2)
//                                                    format(1; 0x80 little-endian |
//                                                    bits - 1)
// Example: the main lab's `R` is a5 02 08 00 | a5 02 08 06 | a5 02 86 dd | 00 00 | 01 00
// (NOT ethertype 0x0800, NOT 0x0806, NOT 0x86dd, DROP, ACCEPT).
//
// JSON form: the field names ZeroTier's controller reads and renders
// (EmbeddedNetworkController _parseRule/_renderRule), e.g.
//   {"type":"MATCH_ETHERTYPE","not":true,"or":false,"etherType":2048}
//   {"type":"ACTION_TEE","address":"73d8c8d12f","flags":0,"length":64}
//   {"type":"MATCH_IPV4_SOURCE","ip":"10.0.0.0/8"}   {"type":"MATCH_MAC_DEST",
//   "mac":"fa:9d:a4:55:8f:96"}  {"type":"MATCH_ICMP","icmpType":8,"icmpCode":null}
//   {"type":"MATCH_CHARACTERISTICS","mask":"0000000000000002"}  (hex string or integer)
//   {"type":"MATCH_TAGS_EQUAL","id":1,"value":2}
//   {"type":"INTEGER_RANGE","start":"0000000000000000","end":"00000000000000ff",
//    "idx":0,"little":false,"bits":8}
// Where the reference silently defaults or masks, Almanac refuses instead, naming the
// rule index and field ("rules[3].etherType: expected integer 0..65535"):
//   - every field but the optional ones below is required; unknown fields are refused;
//   - `not`/`or` are optional booleans (default false) and must be false on actions;
//   - optional: `flags`/`length` of TEE/WATCH (0), `flags` of REDIRECT (0), `end` of port
//     and frame-size ranges (= start), `icmpCode` (absent or null = any code), and
//     `idx` (0), `little` (false), `bits` (1) of INTEGER_RANGE;
//   - IP rules need "address/bits" of the right family (the reference reads a bare
//     address as /0, which matches everything);
//   - ranges need start <= end.
// ACTION_PRIORITY is refused: ZeroTier's controller does not accept it and 1.14.1 sends
// it without its argument (length 0), so it cannot mean what a user would expect.
// INTEGER_RANGE is accepted (the name the reference renders) and sent, although the
// 1.14.1 controller drops it; nodes evaluate it.
//
// Pure functions; nlohmann::json is only read (no exceptions escape); any thread.
#ifndef ALMANAC_CTL_NET_RULES_H_
#define ALMANAC_CTL_NET_RULES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ctl/net/limits.h"
#include "nlohmann/json.hpp"

namespace almanac::net {

// ZT_VirtualNetworkRuleType of ZeroTier One 1.14.1 (include/ZeroTierOne.h).
enum class RuleType : uint8_t {
  kActionDrop = 0,
  kActionAccept = 1,
  kActionTee = 2,
  kActionWatch = 3,
  kActionRedirect = 4,
  kActionBreak = 5,
  kActionPriority = 6,
  kMatchSourceZeroTierAddress = 24,
  kMatchDestZeroTierAddress = 25,
  kMatchVlanId = 26,
  kMatchVlanPcp = 27,
  kMatchVlanDei = 28,
  kMatchMacSource = 29,
  kMatchMacDest = 30,
  kMatchIpv4Source = 31,
  kMatchIpv4Dest = 32,
  kMatchIpv6Source = 33,
  kMatchIpv6Dest = 34,
  kMatchIpTos = 35,
  kMatchIpProtocol = 36,
  kMatchEthertype = 37,
  kMatchIcmp = 38,
  kMatchIpSourcePortRange = 39,
  kMatchIpDestPortRange = 40,
  kMatchCharacteristics = 41,
  kMatchFrameSizeRange = 42,
  kMatchRandom = 43,
  kMatchTagsDifference = 44,
  kMatchTagsBitwiseAnd = 45,
  kMatchTagsBitwiseOr = 46,
  kMatchTagsBitwiseXor = 47,
  kMatchTagsEqual = 48,
  kMatchTagSender = 49,
  kMatchTagReceiver = 50,
  kMatchIntegerRange = 51,
};
inline constexpr uint8_t kRuleNotBit = 0x80;
inline constexpr uint8_t kRuleOrBit = 0x40;
inline constexpr uint8_t kRuleTypeMask = 0x3f;

// OK when `rules` is a JSON array of at most `rules_max` valid rules (see above).
// InvalidArgument naming the element and field otherwise; errors are prefixed with
// `path` ("rules", or "capabilities[2].rules" for a capability's rules).
absl::Status ValidateRules(const nlohmann::json& rules, size_t rules_max = kNetworkRulesMax,
                           std::string_view path = "rules");

// The wire form of a valid rule set (the concatenated rules, no count or header), or the
// same InvalidArgument as ValidateRules. An empty array compiles to "".
absl::StatusOr<std::string> CompileRules(const nlohmann::json& rules,
                                         size_t rules_max = kNetworkRulesMax,
                                         std::string_view path = "rules");

// The JSON a valid rule set reads back as: what ZeroTier's controller renders (every
// match carries `not` and `or`; hex strings and MACs in lower case; IPs canonical).
// Valid JSON is also safe to store verbatim: it compiles to the same bytes.
absl::StatusOr<nlohmann::json> CanonicalRulesJson(const nlohmann::json& rules);

// Wire form back to canonical JSON. InvalidArgument for a truncated rule, an unknown
// type, a length that does not fit the type, or more than rules_max rules.
absl::StatusOr<nlohmann::json> DecodeRules(std::string_view wire,
                                           size_t rules_max = kNetworkRulesMax);
inline absl::StatusOr<nlohmann::json> DecodeRulesForTest(std::string_view wire) {
  return DecodeRules(wire);
}

}  // namespace almanac::net

#endif  // ALMANAC_CTL_NET_RULES_H_
