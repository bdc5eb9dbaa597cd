// A network's `capabilities` and `tags` JSON (ZeroTier controller API), validated and
// parsed for the netconf encoder, which signs them as CAP and TAG certificates.
//
//   capabilities: [{"id": <uint32>, "default": <bool, optional>, "rules": [<rule>...]}]
//   tags:         [{"id": <uint32>, "default": <uint32 | null, optional>}]
// Rules follow ctl/net/rules.h, at most kCapabilityRulesMax per capability. Unknown
// fields and duplicate ids are refused (the reference silently keeps the last one).
// Errors are InvalidArgument naming index and field ("capabilities[1].rules[0].type: ...").
//
// Pure functions; no exceptions escape; any thread.
#ifndef ALMANAC_CTL_NET_CAPABILITIES_H_
#define ALMANAC_CTL_NET_CAPABILITIES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace almanac::net {

struct CapabilityDef {
  uint32_t id = 0;
  // Granted to members that join after it exists ("default": true).
  bool default_grant = false;
  // The capability's rules in wire form (CompileRules) and how many there are.
  std::string rules_wire;
  size_t rule_count = 0;
};

struct TagDef {
  uint32_t id = 0;
  // Value given to members that have no value of their own; nullopt for none.
  std::optional<uint32_t> default_value;
};

// The capabilities sorted by id, or InvalidArgument. At most kNetworkCapabilitiesMax.
absl::StatusOr<std::vector<CapabilityDef>> ParseCapabilities(const nlohmann::json& caps);

// The tags sorted by id, or InvalidArgument. At most kNetworkTagsMax.
absl::StatusOr<std::vector<TagDef>> ParseTags(const nlohmann::json& tags);

}  // namespace almanac::net

#endif  // ALMANAC_CTL_NET_CAPABILITIES_H_
