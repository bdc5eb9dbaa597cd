// A small compiler of ZeroTier rule JSON into the binary `R` form of a netconf
// (shared/docs/zerotier-protocol.md §5: per rule type(1; 0x80 NOT, 0x40 OR) | length(1) |
// data), covering only the rule kinds the netconf tests need.
//
// Stand-in: ctl/net/rules.h (CompileRules, owned by the net engineer) is the full
// compiler; this exists because it had not landed when the encoder was written, and should
// be replaced by it. Supported: ACTION_DROP, ACTION_ACCEPT, ACTION_BREAK, MATCH_ETHERTYPE,
// MATCH_IP_PROTOCOL, MATCH_SOURCE_ZEROTIER_ADDRESS, MATCH_DEST_ZEROTIER_ADDRESS.
// Pure; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_RULES_LITE_H_
#define ALMANAC_CTL_NETCONF_RULES_LITE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace almanac::netconf {

struct CompiledRules {
  std::string bytes;  // concatenated binary rules
  size_t count = 0;
};

// The rules of `rules_json` (a JSON array; "" means [{"type":"ACTION_ACCEPT"}]).
// InvalidArgument: not a JSON array, a rule that is not an object, or a field missing or
// out of range. Unimplemented: a rule type this stand-in does not know.
absl::StatusOr<CompiledRules> CompileRulesLite(std::string_view rules_json);

// The single ACCEPT rule sent to nodes whose rules engine is too old (revr < 1).
CompiledRules AcceptAllRules();
// A single DROP, sent when the network's rules exceed what the node can hold (fail closed).
CompiledRules DropAllRules();

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_RULES_LITE_H_
