// Limits of almanac::net. Most are ZeroTier's own (include/ZeroTierOne.h in ZeroTier One
// 1.14.1): a node refuses or truncates anything larger, so the API refuses it up front.
#ifndef ALMANAC_CTL_NET_LIMITS_H_
#define ALMANAC_CTL_NET_LIMITS_H_

#include <cstddef>

namespace almanac::net {

// Rules in a network's rule set (ZT_MAX_NETWORK_RULES). A 1.14 node announces the same
// figure as `mr` (0x400) in its request metadata.
inline constexpr size_t kNetworkRulesMax = 1024;
// Rules in one capability (ZT_MAX_CAPABILITY_RULES; request metadata `mcr` = 0x40).
inline constexpr size_t kCapabilityRulesMax = 64;
// Capabilities per network and tags per network (ZT_MAX_NETWORK_CAPABILITIES / _TAGS;
// request metadata `mc` and `mt` = 0x80).
inline constexpr size_t kNetworkCapabilitiesMax = 128;
inline constexpr size_t kNetworkTagsMax = 128;
// Largest compiled rule: type(1) + length(1) + INTEGER_RANGE data(19).
inline constexpr size_t kRuleBytesMax = 21;
// Address assignment: the reference controller gives up on a pool after this many tries.
inline constexpr int kAssignTriesMax = 1000;

static_assert(kCapabilityRulesMax <= kNetworkRulesMax, "a capability is a small rule set");

}  // namespace almanac::net

#endif  // ALMANAC_CTL_NET_LIMITS_H_
